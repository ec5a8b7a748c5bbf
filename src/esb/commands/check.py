"""``esb check``: every problem of every file of the configuration, in one run."""

from __future__ import annotations

import typer

from esb.commands.support import FAILED, LangOption, load_settings, ordered, say
from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.errors import ConfigError


def _files(lines: list[str]) -> int:
    return len({line.split(":", 1)[0] for line in lines})


def check(lang: LangOption = None) -> None:
    """Validate every YAML file of ESB_CONFIG: schema, references, expressions. Each
    problem is printed as file:line: key: what is wrong; exit 1 if there is any."""
    settings = load_settings()
    try:
        config = load_config(settings.config, load_registry(), settings.config_env())
    except ConfigError as exc:
        lines = ordered(exc.problems)
        for line in lines:
            typer.echo(line, err=True)
        typer.echo(say("check.problems", count=len(lines), files=_files(lines)), err=True)
        raise typer.Exit(FAILED) from None
    targets = sum(len(i.targets) for i in config.interfaces.values())
    typer.echo(
        say(
            "check.ok",
            systems=len(config.systems),
            interfaces=len(config.interfaces),
            targets=targets,
            mappings=len(config.mappings.names()),
            folder=config.folder,
        )
    )
    for name in config.switched_off:
        typer.echo(say("check.interface_off", name=name))
    for name in config.queries_off:
        typer.echo(say("check.query_off", name=name))
