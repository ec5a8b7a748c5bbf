"""The ``esb`` command. Every subcommand reads the same ESB_* environment (see Settings)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.commands.check import check
from esb.commands.mapping import mapping_app
from esb.commands.operate import replay, report
from esb.commands.shadow import shadow_app
from esb.commands.support import (
    FAILED,
    LangOption,
    fail,
    forget_language,
    load_settings,
    run,
    say,
    settings_and_config,
    with_database,
)
from esb.config.loader import GatewayConfig, load_config
from esb.connectors import load_registry
from esb.logs import configure_logging
from esb.settings import Settings

# Locals are never shown in a traceback: they may hold keys and bodies.
app = typer.Typer(
    no_args_is_help=True,
    help="esb: a durable integration gateway for factories.",
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
app.add_typer(db_app, name="db")
xref_app = typer.Typer(no_args_is_help=True, help="Master data (cross-reference) import/export.")
app.add_typer(xref_app, name="xref")
app.add_typer(mapping_app, name="mapping")
app.add_typer(shadow_app, name="shadow")
# Each run starts with no language chosen (tests run several commands in one process).
app.callback()(forget_language)
app.command()(check)
app.command()(replay)
app.command()(report)

T = TypeVar("T")


async def _with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """The gateway's existing database (never created here): see ``with_database``."""
    result: T = await with_database(settings, work)
    return result


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: ESB_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: ESB_PORT")] = None,
    relay: Annotated[bool, typer.Option(help="run the relay in this process")] = True,
    worker: Annotated[bool, typer.Option(help="run workers in this process")] = True,
    access_log: Annotated[bool, typer.Option(help="log every HTTP request")] = False,
    reuse_port: Annotated[
        bool,
        typer.Option(
            help="bind with SO_REUSEPORT so several `esb serve` processes share the port "
            "(production mode; the kernel spreads connections over them; /metrics reports "
            "them together through ESB_METRICS_DIR)"
        ),
    ] = False,
) -> None:
    """Run the HTTP API (and, by default, relay and workers) in one process."""
    settings, config = settings_and_config(host=host, port=port)  # ${ESB_LOCAL_URL} follows
    if reuse_port and settings.embedded:
        raise fail(say("serve.reuse_port_embedded"))
    from esb.startup import ready_to_serve

    run(lambda: ready_to_serve(settings, settings.host, settings.port))
    shared_metrics = settings.metrics_dir or (settings.data_dir / "metrics" if reuse_port else None)
    if shared_metrics is not None:
        from esb.metrics import share_between_processes

        share_between_processes(shared_metrics)  # before create_app makes the first metric
    from esb.api import create_app
    from esb.serving import serve_forever

    api = create_app(settings, config=config, relay=relay, worker=worker)
    serve_forever(
        api,
        settings,
        host=settings.host,
        port=settings.port,
        reuse_port=reuse_port,
        access_log=access_log,
    )


async def _run_parts(
    settings: Settings, config: GatewayConfig, *, relay: bool, worker: bool
) -> None:
    from esb.heap import freeze_startup_objects
    from esb.runtime import Gateway

    gateway = Gateway(settings, config, load_registry())
    await gateway.start(relay=relay, worker=worker)
    freeze_startup_objects()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gateway.stop()


def _run_worker_or_relay(
    settings: Settings, config: GatewayConfig, *, relay: bool, worker: bool
) -> None:
    """With ESB_METRICS_PORT: under uvicorn, with /healthz, /readyz and /metrics there."""
    if settings.metrics_port is None:
        run(lambda: _run_parts(settings, config, relay=relay, worker=worker))
        return
    from esb.probes import create_probe_app
    from esb.serving import serve_forever

    probes = create_probe_app(settings, config, relay=relay, worker=worker)
    serve_forever(probes, settings, host=settings.host, port=settings.metrics_port)


@app.command(name="worker")
def worker_command() -> None:
    """Run workers only (embedded mode: the in-process relay too)."""
    settings, config = settings_and_config()
    _run_worker_or_relay(settings, config, relay=settings.embedded, worker=True)


@app.command(name="relay")
def relay_command() -> None:
    """Run the outbox relay only (production mode, with ESB_BROKER_URL)."""
    settings, config = settings_and_config()
    if settings.embedded:
        raise fail(say("relay.embedded"))
    _run_worker_or_relay(settings, config, relay=True, worker=False)


@app.command(name="reconcile")
def reconcile_command() -> None:
    """Run the consistency check once: re-drive what is lost, report what is stuck."""
    from esb.runtime import Gateway
    from esb.store.existing import no_work

    settings, config = settings_and_config()

    async def work() -> dict[str, Any]:
        await with_database(settings, no_work)  # a gateway's database: never created here
        gateway = Gateway(settings, config, load_registry())
        try:
            return await gateway.reconciler.run("cli", within=settings.publish_timeout)
        finally:
            await gateway.stop()

    typer.echo(json.dumps(run(work), indent=2))


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument()] = "head", lang: LangOption = None
) -> None:
    """Create or migrate the schema of ESB_DATABASE_URL (embedded: ./var/esb.db)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from esb.store.existing import unreachable
    from esb.store.migrate import upgrade_sync

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade_sync(settings.effective_database_url, revision)
    except CommandError as exc:
        raise fail(f"esb db upgrade {revision}: {exc}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise fail(say("error", error=unreachable(settings, exc)), FAILED) from None
    typer.echo(say("db.at", revision=revision))


@xref_app.command("import")
def xref_import(
    domain: Annotated[str, typer.Argument(help="e.g. customer")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV; header: systems")],
    reason: Annotated[str, typer.Option(help="kept in the audit log")] = "CLI import",
    lang: LangOption = None,
) -> None:
    """Upsert a domain's entities from CSV (one column per system, as in masterdata/).

    The file is read as a stream (checked whole first, then applied chunk by chunk):
    any size works in constant memory, and a running gateway keeps accepting."""
    from esb.xref import check_arguments, import_file

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)

    async def work(engine: Any) -> Any:
        check_arguments(domain, reason, new_domain=True)
        with file.open("rb") as binary:
            return await import_file(
                engine, domain, binary, source=str(file), actor="cli", reason=reason
            )

    result = run(lambda: _with_engine(settings, work))
    typer.echo(
        say(
            "xref.imported",
            domain=domain,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            refused=result.refused,
        )
    )
    for error in result.errors:
        typer.echo(f"{file}:{error['row']}: {error['message']}", err=True)
    if result.refused > len(result.errors):
        typer.echo(say("xref.more", count=result.refused - len(result.errors)), err=True)
    if result.refused:
        raise typer.Exit(1)


@xref_app.command("export")
def xref_export(domain: Annotated[str, typer.Argument(help="e.g. customer")]) -> None:
    """Print a domain as CSV (the format import reads; UTF-8 with a BOM, for Excel)."""
    from esb.xref import check_arguments, export_csv

    settings = Settings()

    async def work(engine: Any) -> None:
        check_arguments(domain)
        await export_csv(engine, domain, sys.stdout.buffer)

    run(lambda: _with_engine(settings, work))


@xref_app.command("check")
def xref_check(
    domain: Annotated[str, typer.Argument(help="e.g. customer (a check in masterdata.yaml)")],
    as_json: Annotated[bool, typer.Option("--json", help="the whole result as JSON")] = False,
    lang: LangOption = None,
) -> None:
    """Sync check: each system's own code list (masterdata.yaml) against the cross-reference.

    Lists the codes only the cross-reference has and the codes only the system has;
    exits 1 when anything is out of sync or a list could not be read."""
    from esb.xref_check import check_domain

    settings, config = settings_and_config()
    spec = config.xref_checks.get(domain)
    if spec is None:
        known = ", ".join(sorted(config.xref_checks)) or say("xref.none")
        raise fail(say("xref.no_check", domain=repr(domain), known=known))

    async def work(engine: AsyncEngine) -> dict[str, Any]:
        return await check_domain(engine, domain, spec, settings.time_zone)

    result = run(lambda: _with_engine(settings, work))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for line in check_lines(result):
            typer.echo(line)
    if not result["in_sync"]:
        raise typer.Exit(FAILED)


def check_lines(result: dict[str, Any]) -> list[str]:
    """A sync check's result for a person: one line per system, then the codes."""
    head = say("xref.in_sync" if result["in_sync"] else "xref.out_of_sync")
    lines = [say("xref.checked", domain=result["domain"], head=head, at=result["checked_at"])]
    for system, found in result["systems"].items():
        if found["error"]:
            lines.append("  " + say("xref.not_read", system=system, error=found["error"]))
            continue
        only_xref, only_here = found["only_in_xref"], found["only_in_system"]
        lines.append(
            "  "
            + say(
                "xref.counts",
                system=system,
                listed=found["listed"],
                in_xref=found["in_xref"],
                only_xref=only_xref["count"],
                only_here=only_here["count"],
            )
        )
        for title, part in (
            (say("xref.only_in_xref"), only_xref),
            (say("xref.only_in", system=system), only_here),
        ):
            if part["count"]:
                more = part["count"] - len(part["codes"])
                tail = " " + say("xref.more", count=more) if more else ""
                lines.append(f"    {title}: {', '.join(part['codes'])}{tail}")
    return lines


@app.command()
def schemas(
    out: Annotated[Path, typer.Option(help="folder to write *.schema.json into")] = Path("schemas"),
) -> None:
    """Write the JSON Schemas of every YAML file kind (for editors and CI)."""
    from esb.config.schemas import generate

    out.mkdir(parents=True, exist_ok=True)
    for name, schema in generate(load_registry()).items():
        (out / name).write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"wrote {out / name}")


@app.command()
def openapi() -> None:
    """Print the HTTP API's OpenAPI document (docs/openapi.json is generated with this)."""
    from esb.api import create_app
    from esb.settings import demo_config_dir

    settings = load_settings(config=demo_config_dir(), demo_standins=False)
    demo = load_config(demo_config_dir(), load_registry(), {"ESB_DATA_DIR": "var"})
    document = create_app(settings, config=demo)
    typer.echo(json.dumps(document.openapi(), indent=2, ensure_ascii=False))


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
