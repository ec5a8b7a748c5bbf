"""What every ``esb`` command shares: settings and configuration read with plain errors,
coroutines run with the gateway's errors as messages, and the gateway's existing database.

A mistake a person can make (a wrong ESB_* variable, a broken file, the wrong folder)
ends the command with a short message naming what to change and a non-zero exit
code; a traceback is kept for bugs. What a command says to a person is in Chinese or
English (``--lang``, else ESB_LANG, else the locale): ``say`` reads the catalogues'
``cli.*``; what it prints for machines (``--json``) is the same in both.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.loader import GatewayConfig, load_config
from esb.connectors import load_registry
from esb.errors import ConfigError, EsbError, SettingsError
from esb.i18n import Language, choose_language, text
from esb.logs import configure_logging
from esb.settings import Settings
from esb.settings import load_settings as read_settings

T = TypeVar("T")
_WHERE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): ")

#: Exit codes: 1 the work failed (or found problems), 2 the command was used wrongly.
FAILED, MISUSED = 1, 2


_chosen: list[Language] = []  # the command's language, once --lang was read


def _choose(value: str | None) -> str | None:
    try:
        _chosen[:] = [choose_language(value)]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


#: ``--lang zh|en`` for a command's words (read before the other options, so their
#: messages are in it too).
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="zh or en (default: ESB_LANG, else the locale, else zh)",
        callback=_choose,
        is_eager=True,
    ),
]


def forget_language() -> None:
    """A new command starts without a language chosen (the ``esb`` app's callback)."""
    _chosen.clear()


def language() -> Language:
    """This command's language: --lang, else ESB_LANG, else the locale."""
    return _chosen[0] if _chosen else choose_language()


def say(key: str, /, **params: object) -> str:
    """``cli.<key>`` in this command's language."""
    return text(f"cli.{key}", language(), **params)


def width(value: str) -> int:
    """Columns a terminal gives ``value``: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def pad(value: object, columns: int, *, right: bool = False) -> str:
    """``value`` padded to ``columns`` terminal columns (left-aligned, or right)."""
    shown = str(value)
    fill = " " * max(columns - width(shown), 0)
    return fill + shown if right else shown + fill


def fail(message: str, code: int = MISUSED) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """The ESB_* settings; a wrong variable ends the command naming it."""
    try:
        return read_settings(**overrides)
    except SettingsError as exc:
        head = say("settings_wrong", count=len(exc.problems))
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
        raise fail(say("config_problems", count=len(lines)) + "\n" + "\n".join(lines)) from None


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
        code = MISUSED if isinstance(exc, ConfigError) else FAILED
        raise fail(say("error", error=exc), code) from None


async def with_database(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """``work`` on the gateway's existing database, for a command that reads (or acts on)
    what a gateway stored: it never creates a database, and says where it looked."""
    from esb.store.existing import open_existing

    engine = await open_existing(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def recorded_time(at: Any, zone: str) -> str:
    """A recorded time in the factory's zone (2026-11-24 08:30:05), as it is if not a time."""
    if not at:
        return "-"
    try:
        when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    except ValueError:
        return str(at)
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
