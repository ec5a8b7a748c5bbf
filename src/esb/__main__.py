"""``python -m esb`` is the ``esb`` command."""

from esb.cli import app

app()
