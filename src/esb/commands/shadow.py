"""``esb shadow``: the parallel runs on the gateway's database: list them with their match
rates, promote one, roll it back. A running gateway applies a promotion in every process
within ``ESB_SHADOW_REFRESH`` seconds; each change is audited."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.commands.support import fail, run, settings_and_config, with_database

shadow_app = typer.Typer(
    no_args_is_help=True, help="Parallel runs before go-live: match rates, promote, roll back."
)

Interface = Annotated[str, typer.Argument(help="the interface, e.g. sales-order")]
Target = Annotated[str, typer.Argument(help="the target in shadow (its name in interfaces.yaml)")]
Reason = Annotated[str, typer.Option(help="why (kept in the audit log)")]
Operator = Annotated[str, typer.Option(help="who, for the audit log")]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _table(data: dict[str, Any]) -> None:
    """One line per shadow with today's numbers, then its most frequent differing fields."""
    typer.echo(f"parallel runs, today {data['day']} ({data['time_zone']})")
    if not data["shadows"]:
        typer.echo("no target declares a shadow: in interfaces.yaml")
    for entry in data["shadows"]:
        today, delivering = entry["today"], entry["delivering"]
        typer.echo(
            f"{entry['interface'] + '/' + entry['target']:32} {entry['state']:9} "
            f"compared {today['compared']:>6}  match {_rate(today['match_rate']):>7}  "
            f"failed {today['failed']:>5}  delivering: {delivering['target']} "
            f"via {delivering['mapping'] or '(body unchanged)'}"
        )
        for found in today["fields"]:
            typer.echo(f"    {found['field']}: differed in {found['messages']}")
    for old in data["stale"]:
        typer.echo(
            f"stale: {old['interface']}/{old['target']} was promoted by {old['promoted_by']} "
            "but the files no longer declare that shadow: the files rule"
        )


def list_shadows(
    days: Annotated[int, typer.Option(min=1, max=366, help="factory days back")] = 14,
    as_json: Annotated[bool, typer.Option("--json", help="print the raw JSON")] = False,
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
        _table(data)


def _change(interface: str, target: str, reason: str, operator: str, *, promote: bool) -> None:
    from esb.shadow import actions

    if not reason.strip():
        raise fail("--reason is required: the audit log keeps why")
    settings, config = settings_and_config()
    act = actions.promote if promote else actions.rollback
    actor = f"cli:{operator}"
    done = run(
        lambda: with_database(
            settings, lambda e: act(e, config, (interface, target), actor, reason)
        )
    )
    now = done["delivering"]
    typer.echo(
        f"{interface}/{target} {'promoted' if promote else 'rolled back'}: {now['target']} now "
        f"gets the messages via {now['mapping'] or '(body unchanged)'}; a running gateway "
        "applies it in every process within ESB_SHADOW_REFRESH seconds"
    )


def promote(
    interface: Interface, target: Target, reason: Reason = "", operator: Operator = "cli"
) -> None:
    """Make a shadow live, in every process; the previous one is kept for rollback. Audited.

    A candidate mapping becomes its target's mapping; a new target gets the messages of
    the target it replaces."""
    _change(interface, target, reason, operator, promote=True)


def rollback(
    interface: Interface, target: Target, reason: Reason = "", operator: Operator = "cli"
) -> None:
    """Bring back what delivered before the promotion. Audited."""
    _change(interface, target, reason, operator, promote=False)


shadow_app.command("list")(list_shadows)
shadow_app.command()(promote)
shadow_app.command()(rollback)
