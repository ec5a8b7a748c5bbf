"""``esb replay`` and ``esb report``: an operator's commands on a gateway's database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.commands.support import (
    FAILED,
    LangOption,
    fail,
    language,
    load_settings,
    pad,
    recorded_time,
    run,
    say,
    settings_and_config,
    with_database,
)
from esb.config.types import parse_duration
from esb.errors import Conflict, NotFound
from esb.limits import MAX_WINDOW_DAYS
from esb.logs import configure_logging

#: The longest report window the command accepts (ten years).
MAX_WINDOW_S = MAX_WINDOW_DAYS * 86400.0  # as the HTTP API


def window_option(value: str) -> str:
    """``--window``: a duration such as 15m, 1h or 7d, refused in words otherwise."""
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not 0 < seconds <= MAX_WINDOW_S:
        raise typer.BadParameter(say("window_range", value=repr(value), days=MAX_WINDOW_DAYS))
    return value


def delivery_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise typer.BadParameter(say("not_a_delivery_id", value=repr(value))) from None


@dataclass(frozen=True)
class ReplayRequest:
    ids: list[UUID]
    all_parked: bool
    interface: str | None
    target: str | None
    actor: str
    reason: str


async def _replay_all(
    engine: AsyncEngine, request: ReplayRequest
) -> list[tuple[UUID, dict[str, Any] | str]]:
    """Each delivery replayed on its own: one that cannot be (not parked any more, unknown)
    is reported and the others still go."""
    from esb.store import operator as ops

    ids = list(request.ids)
    if request.all_parked:
        ids += await ops.parked(engine, interface=request.interface, target=request.target)
    done: list[tuple[UUID, dict[str, Any] | str]] = []
    for one in ids:
        try:
            done.append((one, await ops.replay(engine, one, request.actor, request.reason)))
        except (NotFound, Conflict) as exc:
            done.append((one, str(exc)))
    return done


def replay(
    delivery_ids: Annotated[
        list[UUID] | None, typer.Argument(help="deliveries to replay", parser=delivery_id)
    ] = None,
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "",
    all_parked: Annotated[
        bool, typer.Option(help="every parked delivery (filtered below)")
    ] = False,
    interface: Annotated[str | None, typer.Option()] = None,
    target: Annotated[str | None, typer.Option()] = None,
    operator: Annotated[str, typer.Option(help="who, for the audit log")] = "cli",
    lang: LangOption = None,
) -> None:
    """Queue parked deliveries again; each replay is audited with the reason."""
    if not reason.strip():
        raise fail(say("replay.no_reason"))
    if not delivery_ids and not all_parked:
        raise fail(say("replay.nothing_named"))
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    request = ReplayRequest(
        list(delivery_ids or []), all_parked, interface, target, f"cli:{operator}", reason
    )
    done = run(lambda: with_database(settings, lambda e: _replay_all(e, request)))
    refused = [(one, why) for one, why in done if isinstance(why, str)]
    for one, result in done:
        if not isinstance(result, str):
            was, now = result["previous_status"], result["status"]
            typer.echo(say("replay.done", delivery=one, was=was, now=now))
    for one, why in refused:
        typer.echo(say("replay.refused", delivery=one, why=why), err=True)
    typer.echo(say("replay.queued", count=len(done) - len(refused)))
    if refused:
        raise typer.Exit(FAILED)


#: The report table's columns: catalogue key (cli.report.<key>), width, right-aligned.
COLUMNS = [
    ("pair", 32, False), ("status", 9, False), ("received", 6, True), ("delivered", 6, True),
    ("failed", 5, True), ("parked", 5, True), ("pending", 5, True), ("blocked", 5, True),
    ("success", 8, True), ("p95", 8, True),
]  # fmt: skip
SCHEDULE_COLUMNS = [
    ("job", 40, False), ("last_run", 25, False), ("rows", 6, True), ("runs", 6, True),
    ("failures", 6, True), ("skipped", 7, True),
]  # fmt: skip
STATUSES = ("ok", "degraded", "failing")


def _line(columns: list[tuple[str, int, bool]], values: list[Any]) -> str:
    return " ".join(pad(v, w, right=r) for (_, w, r), v in zip(columns, values, strict=True))


def _table(data: dict[str, Any], zone: str) -> None:
    typer.echo(_line(COLUMNS, [say(f"report.{key}") for key, _, _ in COLUMNS]))
    for row in data["interfaces"]:
        rate = "-" if row["success_rate"] is None else f"{row['success_rate']:.1%}"
        p95 = row["attempt_latency_ms"]["p95"]
        status = say(f"status.{row['status']}") if row["status"] in STATUSES else row["status"]
        values = [f"{row['interface']}/{row['target']}", status, row["received"],
                  row["delivered"], row["failed_attempts"], row["parked"], row["pending"],
                  row["blocked"], rate, "-" if p95 is None else f"{p95:.1f}"]  # fmt: skip
        typer.echo(_line(COLUMNS, values))
        for head in row["blocked_by_parked"]:  # ordering: key, what holds deliveries back
            typer.echo(
                "  "
                + say(
                    "report.waiting_behind",
                    blocked=head["blocked"],
                    delivery=head["delivery_id"],
                    key=head["key"],
                )
            )
    _schedules(data.get("schedules", []), zone)
    _shadows(data.get("shadows", []), zone)


def _shadows(rows: list[dict[str, Any]], zone: str) -> None:
    """The parallel runs: today's match rate and the fields that differ most."""
    if not rows:
        return
    from esb.commands.shadow import shadow_lines
    from esb.i18n import text

    lang = language()
    typer.echo(f"\n{text('shadow.report.heading', lang)}")
    for row in rows:
        for line in shadow_lines(row, lang, zone):
            typer.echo(line)


def _schedules(rows: list[dict[str, Any]], zone: str) -> None:
    """Polls, syncs and checks on a schedule: the last run and the counts."""
    if not rows:
        return
    heads = [say(f"report.{key}", zone=zone) for key, _, _ in SCHEDULE_COLUMNS]
    typer.echo(f"\n{_line(SCHEDULE_COLUMNS, heads)}  {say('report.last_error')}")
    for row in rows:
        values = [row["job"], recorded_time(row["started_at"], zone), _count(row["rows"]),
                  _count(row["runs"]), _count(row["failures"]), _count(row["skipped"])]  # fmt: skip
        typer.echo(f"{_line(SCHEDULE_COLUMNS, values)}  {row['error'] or ''}")


def _count(value: Any) -> str:
    return "-" if value is None else str(value)


def report(
    window: Annotated[str, typer.Option(help="e.g. 15m, 1h, 1d", parser=window_option)] = "15m",
    as_json: Annotated[bool, typer.Option("--json", help="print the raw JSON")] = False,
    lang: LangOption = None,
) -> None:
    """The health report per interface and target."""
    from esb.report import build_report
    from esb.shadow.status import shadows_today

    settings, config = settings_and_config()

    async def both(engine: AsyncEngine) -> dict[str, Any]:
        data = await build_report(engine, config, window)
        return {**data, "shadows": await shadows_today(engine, config, settings.time_zone)}

    data = run(lambda: with_database(settings, both))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        _table(data, settings.time_zone)
