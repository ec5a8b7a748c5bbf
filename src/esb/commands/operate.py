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
    fail,
    load_settings,
    run,
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
        raise typer.BadParameter(f"{value!r} must be more than 0 and at most {MAX_WINDOW_DAYS}d")
    return value


def delivery_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a delivery id (a UUID, as GET /v1/messages shows them)"
        ) from None


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
) -> None:
    """Queue parked deliveries again; each replay is audited with the reason."""
    if not reason.strip():
        raise fail("--reason is required: the audit log keeps why a delivery was replayed")
    if not delivery_ids and not all_parked:
        raise fail("name the deliveries to replay, or use --all-parked")
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    request = ReplayRequest(
        list(delivery_ids or []), all_parked, interface, target, f"cli:{operator}", reason
    )
    done = run(lambda: with_database(settings, lambda e: _replay_all(e, request)))
    refused = [(one, why) for one, why in done if isinstance(why, str)]
    for one, result in done:
        if not isinstance(result, str):
            typer.echo(f"replayed {one} (was {result['previous_status']}, now {result['status']})")
    for one, why in refused:
        typer.echo(f"not replayed {one}: {why}", err=True)
    count = len(done) - len(refused)
    typer.echo(f"{count} deliver{'y' if count == 1 else 'ies'} queued again; a running "
               "gateway picks them up")  # fmt: skip
    if refused:
        raise typer.Exit(FAILED)


def _table(data: dict[str, Any]) -> None:
    typer.echo(
        f"{'interface/target':32} {'status':9} {'recv':>6} {'deliv':>6} {'fail':>5} "
        f"{'park':>5} {'pend':>5} {'blkd':>5} {'success':>8} {'p95 ms':>8}"
    )
    for row in data["interfaces"]:
        rate = "-" if row["success_rate"] is None else f"{row['success_rate']:.1%}"
        p95 = row["attempt_latency_ms"]["p95"]
        typer.echo(
            f"{row['interface'] + '/' + row['target']:32} {row['status']:9} {row['received']:>6} "
            f"{row['delivered']:>6} {row['failed_attempts']:>5} {row['parked']:>5} "
            f"{row['pending']:>5} {row['blocked']:>5} {rate:>8} "
            f"{'-' if p95 is None else f'{p95:.1f}':>8}"
        )
        for head in row["blocked_by_parked"]:  # ordering: key, what holds deliveries back
            typer.echo(
                f"  {head['blocked']} waiting behind parked delivery {head['delivery_id']} "
                f"(key {head['key']})"
            )
    _schedules(data.get("schedules", []))
    _shadows(data.get("shadows", []))


def _shadows(rows: list[dict[str, Any]]) -> None:
    """The parallel runs: today's match rate and the fields that differ most."""
    if not rows:
        return
    from esb.commands.shadow import shadow_lines
    from esb.i18n import choose_language, text

    lang = choose_language()
    typer.echo(f"\n{text('shadow.report.heading', lang)}")
    for row in rows:
        for line in shadow_lines(row, lang):
            typer.echo(line)


def _schedules(rows: list[dict[str, Any]]) -> None:
    """Polls, syncs and checks on a schedule: the last run and the counts."""
    if not rows:
        return
    typer.echo(f"\n{'scheduled job':40} {'last run':25} {'rows':>6} {'runs':>6} {'failed':>6} "
               f"{'skipped':>7}  last error")  # fmt: skip
    for row in rows:
        typer.echo(
            f"{row['job']:40} {row['started_at'] or '-':25} {_count(row['rows']):>6} "
            f"{_count(row['runs']):>6} {_count(row['failures']):>6} {_count(row['skipped']):>7}"
            f"  {row['error'] or ''}"
        )


def _count(value: Any) -> str:
    return "-" if value is None else str(value)


def report(
    window: Annotated[str, typer.Option(help="e.g. 15m, 1h, 1d", parser=window_option)] = "15m",
    as_json: Annotated[bool, typer.Option("--json", help="print the raw JSON")] = False,
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
        _table(data)
