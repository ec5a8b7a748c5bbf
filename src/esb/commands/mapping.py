"""``esb mapping test`` and ``esb mapping diff``: try a mapping before it goes live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.commands.support import FAILED, fail, run, settings_and_config, with_database
from esb.config.loader import GatewayConfig
from esb.errors import MappingError
from esb.mapping import CompiledMapping

mapping_app = typer.Typer(no_args_is_help=True, help="Try mappings before they go live.")


def _mapping(config: GatewayConfig, name: str) -> CompiledMapping:
    if name not in config.mappings:
        raise fail(f"no mapping {name!r}; there are: {', '.join(config.mappings.names())}")
    return config.mappings.get(name)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"{path}: {exc}") from None


@mapping_app.command("test")
def mapping_test(
    name: Annotated[str, typer.Argument(help="mapping file name without .yaml")],
    input_file: Annotated[Path, typer.Argument(help="sample source body (JSON)")],
    expected_file: Annotated[Path | None, typer.Argument(help="expected target body")] = None,
) -> None:
    """Run a mapping on a sample (master data from the folder's masterdata/*.csv) and
    compare with the expected output; exit 1 on any difference."""
    from esb.mapping import MappingContext, run_mapping_test
    from esb.mapping_tools import explain_offline, masterdata_xref

    _, config = settings_and_config()
    mapping = _mapping(config, name)
    context = MappingContext(xref=masterdata_xref(config.folder))
    body = _read_json(input_file)
    try:
        if expected_file is None:
            output = mapping(body, context)
            typer.echo(json.dumps(output, indent=2, ensure_ascii=False, default=str))
            return
        result = run_mapping_test(mapping, body, _read_json(expected_file), context)
        if result.error is not None:
            raise result.error
    except MappingError as exc:
        raise fail(
            f"{name}: the mapping failed: {explain_offline(exc, config.folder)}", 1
        ) from None
    typer.echo(result.diff_text())
    if not result.ok:
        raise typer.Exit(FAILED)


@mapping_app.command("diff")
def mapping_diff(
    name: Annotated[str, typer.Argument(help="mapping file name without .yaml")],
    last: Annotated[int, typer.Option(min=1, help="how many recent messages to replay")] = 50,
) -> None:
    """Before you deploy: run the EDITED mapping (the files on disk) on the last messages
    its interface really received, and show what each target would now receive
    differently (master data from the database). Exit 1 if anything would change.
    A delivery an operator corrected is compared with what the mapping produced for it,
    not with the operator's body."""
    from esb.mapping_tools import diff_mapping, routes_using
    from esb.xref import XrefCache

    settings, config = settings_and_config()
    mapping = _mapping(config, name)

    async def work(engine: AsyncEngine) -> list[Any]:
        xref = XrefCache(engine)
        await xref.refresh()
        return [
            (r, await diff_mapping(engine, mapping, r, xref, last))
            for r in routes_using(config, name)
        ]

    changed = 0
    for (interface, target), entries in run(lambda: with_database(settings, work)):
        plural = "" if len(entries) == 1 else "s"
        typer.echo(f"== {interface} -> {target}: last {len(entries)} message{plural}")
        for entry in entries:
            changed += entry.changed
            for line in entry.describe():
                typer.echo(line)
    typer.echo(f"{changed} message(s) would be sent differently")
    if changed:
        raise typer.Exit(FAILED)
