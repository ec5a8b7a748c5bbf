"""What every ``esb`` command shares: settings and configuration read with plain errors,
coroutines run with the gateway's errors as messages, and the gateway's existing database.

A mistake a person can make (a wrong ESB_* variable, a broken file, the wrong folder)
ends the command with a short message naming what to change and a non-zero exit
code; a traceback is kept for bugs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.loader import GatewayConfig, load_config
from esb.connectors import load_registry
from esb.errors import ConfigError, EsbError, SettingsError
from esb.logs import configure_logging
from esb.settings import Settings
from esb.settings import load_settings as read_settings

T = TypeVar("T")
_WHERE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): ")

#: Exit codes: 1 the work failed (or found problems), 2 the command was used wrongly.
FAILED, MISUSED = 1, 2


def fail(message: str, code: int = MISUSED) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """The ESB_* settings; a wrong variable ends the command naming it."""
    try:
        return read_settings(**overrides)
    except SettingsError as exc:
        count = len(exc.problems)
        head = f"esb: {count} setting{'s are' if count > 1 else ' is'} wrong:"
        raise fail("\n".join([head, *(f"  {p}" for p in exc.problems)])) from None


def settings_and_config(**overrides: Any) -> tuple[Settings, GatewayConfig]:
    """The settings (``overrides`` from command options, None for unset) and the
    configuration read with them."""
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    configure_logging(settings.log_format, settings.log_level)
    try:
        return settings, load_config(settings.config, load_registry(), settings.config_env())
    except ConfigError as exc:
        lines = ordered(exc.problems)
        raise fail(f"configuration has {len(lines)} problem(s):\n" + "\n".join(lines)) from None


def ordered(problems: Iterable[str], here: Path | None = None) -> list[str]:
    """Problems sorted by file and line, a file under the current folder named relatively
    (``interfaces.yaml:12``, which editors and terminals open at the line)."""
    here = (here or Path.cwd()).resolve()

    def short(problem: str) -> tuple[str, int, str]:
        found = _WHERE.match(problem)
        if found is None:
            return "", 0, problem
        path = Path(found["path"])
        shown = path.relative_to(here) if path.is_relative_to(here) else path
        return str(shown), int(found["line"]), f"{shown}:{problem[len(found['path']) + 1 :]}"

    return [text for _, _, text in sorted((short(p) for p in problems), key=lambda s: s[:2])]


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main`` on uvloop when available; gateway errors end the command with a message."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(main())
    except EsbError as exc:  # a wrong setting or file is a misuse; the rest a failure
        raise fail(f"error: {exc}", MISUSED if isinstance(exc, ConfigError) else FAILED) from None


async def with_database(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """``work`` on the gateway's existing database, for a command that reads (or acts on)
    what a gateway stored: it never creates a database, and says where it looked."""
    from esb.store.existing import open_existing

    engine = await open_existing(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()
