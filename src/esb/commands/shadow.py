"""``esb shadow``: the parallel runs on the gateway's database: list them with their match
rates, promote one, roll it back. A running gateway applies a promotion in every process
within ``ESB_SHADOW_REFRESH`` seconds; each change is audited."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.commands.support import (
    LangOption,
    fail,
    language,
    recorded_time,
    run,
    settings_and_config,
    with_database,
)
from esb.i18n import Language, text

shadow_app = typer.Typer(
    no_args_is_help=True, help="Parallel runs before go-live: match rates, promote, roll back."
)

Interface = Annotated[str, typer.Argument(help="the interface, e.g. sales-order")]
Target = Annotated[str, typer.Argument(help="the target in shadow (its name in interfaces.yaml)")]
Reason = Annotated[str, typer.Option(help="why (kept in the audit log)")]
Operator = Annotated[str, typer.Option(help="who, for the audit log")]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _state(entry: dict[str, Any], lang: Language, zone: str) -> str:
    promoted = entry.get("promoted")
    if entry["state"] != "promoted" or promoted is None:
        return text("shadow.state.shadow", lang)
    at = recorded_time(promoted["at"], zone)
    return text("shadow.state.promoted", lang, at=at, by=promoted["by"])


def shadow_lines(entry: dict[str, Any], lang: Language, zone: str) -> list[str]:
    """One shadow's line with today's numbers, then its most frequent differing fields
    (``esb shadow list`` and the parallel-run part of ``esb report``); times in ``zone``,
    the factory's."""
    today, now = entry["today"], entry["delivering"]
    line = text(
        "shadow.cli.line",
        lang,
        route=f"{entry['interface']}/{entry['target']}",
        state=_state(entry, lang, zone),
        compared=today["compared"],
        rate=_rate(today["match_rate"]),
        failed=today["failed"],
        target=now["target"],
        mapping=now["mapping"] or text("shadow.unchanged", lang),
    )
    fields = [
        text("shadow.cli.field", lang, field=f["field"], count=f["messages"], n=f["messages"])
        for f in today["fields"]
    ]
    return [line, *fields]


def _table(data: dict[str, Any], lang: Language) -> None:
    typer.echo(text("shadow.cli.heading", lang, day=data["day"], zone=data["time_zone"]))
    if not data["shadows"]:
        typer.echo(text("shadow.cli.none", lang))
    for entry in data["shadows"]:
        for line in shadow_lines(entry, lang, data["time_zone"]):
            typer.echo(line)
    for old in data["stale"]:
        route = f"{old['interface']}/{old['target']}"
        typer.echo(text("shadow.cli.stale", lang, route=route, by=old["promoted_by"]))


def list_shadows(
    days: Annotated[int, typer.Option(min=1, max=366, help="factory days back")] = 14,
    as_json: Annotated[bool, typer.Option("--json", help="print the raw JSON")] = False,
    lang: LangOption = None,
) -> None:
    """Every shadow: what delivers, today's match rate, the fields that differ."""
    from esb.shadow.overlay import apply
    from esb.shadow.status import shadow_status
    from esb.store.shadow import promotions

    settings, config = settings_and_config()

    async def status(engine: AsyncEngine) -> dict[str, Any]:
        effective = apply(config, await promotions(engine)) if config.shadows else config
        return await shadow_status(engine, effective, settings.time_zone, days)

    data = run(lambda: with_database(settings, status))
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _table(data, language())


def _change(route: tuple[str, str], reason: str, operator: str, *, promote: bool) -> None:
    from esb.shadow import actions

    chosen = language()
    if not reason.strip():
        raise fail(text("shadow.cli.need_reason", chosen))
    settings, config = settings_and_config()
    act = actions.promote if promote else actions.rollback
    actor = f"cli:{operator}"
    done = run(lambda: with_database(settings, lambda e: act(e, config, route, actor, reason)))
    now = done["delivering"]
    key = "shadow.cli.promote_done" if promote else "shadow.cli.rollback_done"
    mapping = now["mapping"] or text("shadow.unchanged", chosen)
    typer.echo(text(key, chosen, route="/".join(route), target=now["target"], mapping=mapping))


def promote(
    interface: Interface,
    target: Target,
    reason: Reason = "",
    operator: Operator = "cli",
    lang: LangOption = None,
) -> None:
    """Make a shadow live, in every process; the previous one is kept for rollback. Audited.

    A candidate mapping becomes its target's mapping; a new target gets the messages of
    the target it replaces."""
    _change((interface, target), reason, operator, promote=True)


def rollback(
    interface: Interface,
    target: Target,
    reason: Reason = "",
    operator: Operator = "cli",
    lang: LangOption = None,
) -> None:
    """Bring back what delivered before the promotion. Audited."""
    _change((interface, target), reason, operator, promote=False)


shadow_app.command("list")(list_shadows)
shadow_app.command()(promote)
shadow_app.command()(rollback)
