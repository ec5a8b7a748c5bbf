"""The configuration's changes in the audit trail, once each however many processes load
them (``esb.store.config_state``):

- ``config.reload``: a reload applied changed files; the actor is who asked (the API's
  ``admin`` / ``admin:li.wei`` with their reason, or ``watcher:<host>`` with the files
  it saw change), ``before``/``after`` the old and new value of every path that changed
  (``esb.config.changes``; secrets as ``***``), each side with its files' digest;
- ``config.refused``: a changed folder that did not pass its checks, with every problem;
- ``config.load``: a process started on files other than those last recorded (changed
  while the gateway was stopped), compared with what was recorded then (a secret
  changed meanwhile cannot be told from its mask there).

Recording never stands in the way of the reload itself: a database away is logged.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.changes import changes
from esb.config.folder import read_folder
from esb.config.gateway import GatewayConfig
from esb.config.summary import shown, summary
from esb.errors import EsbError
from esb.store.config_state import Entry, Recorded, record_change, record_refusal

log = structlog.get_logger(__name__)

#: Problems kept in a refusal's entry (the health report has them all).
MAX_PROBLEMS = 50
#: Changed files named in a watcher's reason.
MAX_FILES = 20


@dataclass(frozen=True)
class Trigger:
    """Who or what asked for a reload, and why."""

    actor: str
    reason: str = ""


def watcher(folder: Path, changed: Iterable[str]) -> Trigger:
    """The file watcher of this host, with the changed files (relative, as named there)."""
    root = folder.resolve()
    names = set()
    for path in changed:
        full = Path(path).resolve()
        name = full.relative_to(root).as_posix() if full.is_relative_to(root) else full.name
        if not any(part.startswith(".") for part in name.split("/")) and not name.endswith("~"):
            names.add(name)
    listed = sorted(names)
    more = f" (+{len(listed) - MAX_FILES})" if len(listed) > MAX_FILES else ""
    return Trigger(f"watcher:{socket.gethostname()}", ", ".join(listed[:MAX_FILES]) + more)


def _side(digest: str, **parts: Any) -> dict[str, Any]:
    return {"config": digest[:16], **parts}


class ConfigTrail:
    """A gateway part: ``start`` records a configuration changed while stopped; the live
    configuration calls ``reloaded`` and ``refused``."""

    name = "config-trail"

    def __init__(self, engine: AsyncEngine, config: Callable[[], GatewayConfig]) -> None:
        self.engine = engine
        self.config = config

    async def start(self) -> None:
        config = self.config()
        now = shown(summary(config))

        def describe(recorded: Recorded | None) -> Entry | None:
            if recorded is None:
                return None  # the first configuration of this database: nothing changed
            before, after = changes(recorded.summary, now)
            return Entry(
                "config.load",
                f"startup:{socket.gethostname()}",
                "",
                _side(recorded.digest, values=before),
                _side(config.digest, values=after),
            )

        if await self._safely(record_change(self.engine, config.digest, now, describe)):
            log.info("configuration changed while stopped: recorded in the audit log")

    async def reloaded(self, old: GatewayConfig, new: GatewayConfig, trigger: Trigger) -> None:
        if old.digest == new.digest:
            return  # the files were touched, not changed
        before, after = changes(summary(old), summary(new))
        entry = Entry(
            "config.reload",
            trigger.actor,
            trigger.reason,
            _side(old.digest, values=before),
            _side(new.digest, values=after),
        )
        work = record_change(self.engine, new.digest, shown(summary(new)), lambda _: entry)
        self._told(await self._safely(work))

    async def refused(self, running: GatewayConfig, problems: list[str], trigger: Trigger) -> None:
        digest = read_folder(running.folder).digest
        kept = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            kept.append(f"... (+{len(problems) - MAX_PROBLEMS})")
        entry = Entry(
            "config.refused",
            trigger.actor,
            trigger.reason,
            _side(running.digest),
            _side(digest, problems=kept),
        )
        self._told(await self._safely(record_refusal(self.engine, running.digest, digest, entry)))

    @staticmethod
    async def _safely(work: Awaitable[bool]) -> bool | None:
        """Whether this process wrote the entry; None when the database was away."""
        try:
            return await work
        except EsbError as exc:
            log.error("configuration change not recorded in the audit log", error=str(exc))
            return None

    @staticmethod
    def _told(recorded: bool | None) -> None:
        if recorded is not None:
            written = "recorded in" if recorded else "already in (another process was first)"
            log.info(f"configuration change {written} the audit log")

    async def stop(self) -> None:
        return None

    async def health(self) -> str | None:
        return None
