"""How the steps of a call stop early: with the outcome the delivery ends in, or because
the API refused the token (renewed and repeated once, not counted as an attempt)."""

from __future__ import annotations

from esb.sdk import Outcome


class Stop(Exception):  # a control-flow signal
    """The delivery ends here with ``outcome`` (a ``RetryLater`` or a ``Park``)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class TokenRefused(Exception):
    """The API said the token expired or is invalid; ``message`` is its words."""

    def __init__(self, token: str, message: str) -> None:
        super().__init__(message)
        self.token = token
        self.message = message
