"""``esb check``: every problem of every file of the configuration, in one run."""

from __future__ import annotations

import typer

from esb.commands.support import FAILED, load_settings, ordered
from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.errors import ConfigError


def _files(lines: list[str]) -> int:
    return len({line.split(":", 1)[0] for line in lines})


def check() -> None:
    """Validate every YAML file of ESB_CONFIG: schema, references, expressions. Each
    problem is printed as file:line: key: what is wrong; exit 1 if there is any."""
    settings = load_settings()
    try:
        config = load_config(settings.config, load_registry(), settings.config_env())
    except ConfigError as exc:
        lines = ordered(exc.problems)
        for line in lines:
            typer.echo(line, err=True)
        count = len(lines)
        typer.echo(
            f"{count} problem{'s' if count > 1 else ''} in {_files(lines)} file(s): "
            "the gateway does not start on (or reload to) this configuration",
            err=True,
        )
        raise typer.Exit(FAILED) from None
    targets = sum(len(i.targets) for i in config.interfaces.values())
    typer.echo(
        f"ok: {len(config.systems)} systems, {len(config.interfaces)} interfaces, "
        f"{targets} targets, {len(config.mappings.names())} mappings in {config.folder}"
    )
    for name in config.switched_off:
        typer.echo(f"off: interface {name} (its enabled: is false or its variable is unset)")
    for name in config.queries_off:
        typer.echo(f"off: query {name} (its enabled: is false or its variable is unset)")
