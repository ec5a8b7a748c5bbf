"""The ``esb`` command. Every subcommand reads the same ESB_* environment (see Settings)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer

from esb.config.loader import GatewayConfig, load_config
from esb.connectors import load_registry
from esb.errors import ConfigError, EsbError
from esb.logs import configure_logging
from esb.settings import Settings

app = typer.Typer(no_args_is_help=True, help="esb: a durable integration gateway for factories.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
app.add_typer(db_app, name="db")
xref_app = typer.Typer(no_args_is_help=True, help="Master data (cross-reference) import/export.")
app.add_typer(xref_app, name="xref")
mapping_app = typer.Typer(no_args_is_help=True, help="Try mappings before they go live.")
app.add_typer(mapping_app, name="mapping")

T = TypeVar("T")


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def settings_and_config() -> tuple[Settings, GatewayConfig]:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        return settings, load_config(settings.config, load_registry(), settings.config_env())
    except ConfigError as exc:
        raise fail(f"configuration has {len(exc.problems)} problem(s):\n{exc}") from None


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
    except EsbError as exc:
        raise fail(f"error: {exc}", 1) from None


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
            "(production mode; the kernel spreads connections over them)"
        ),
    ] = False,
) -> None:
    """Run the HTTP API (and, by default, relay and workers) in one process."""
    import uvicorn

    from esb.api import create_app

    settings, config = settings_and_config()
    if reuse_port and settings.embedded:
        raise fail("--reuse-port needs production mode: embedded SQLite has one writer process")
    api = create_app(settings, config=config, relay=relay, worker=worker)
    server = uvicorn.Server(
        uvicorn.Config(
            api,
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            access_log=access_log,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
    )
    sockets = [shared_socket(server.config.host, server.config.port)] if reuse_port else None
    server.run(sockets=sockets)


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (Linux balances between them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _run_parts(
    settings: Settings, config: GatewayConfig, *, relay: bool, worker: bool
) -> None:
    from esb.runtime import Gateway

    gateway = Gateway(settings, config, load_registry())
    await gateway.prepare_database()
    await gateway.start(relay=relay, worker=worker)
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, settings.host, gateway.metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gateway.stop()


@app.command(name="worker")
def worker_command() -> None:
    """Run workers only (embedded mode: the in-process relay too)."""
    settings, config = settings_and_config()
    run(lambda: _run_parts(settings, config, relay=settings.embedded, worker=True))


@app.command(name="relay")
def relay_command() -> None:
    """Run the outbox relay only (production mode, with ESB_BROKER_URL)."""
    settings, config = settings_and_config()
    if settings.embedded:
        raise fail("embedded mode has no broker: the relay runs inside `esb serve` / `esb worker`")
    run(lambda: _run_parts(settings, config, relay=True, worker=False))


@app.command(name="reconcile")
def reconcile_command() -> None:
    """Run the consistency check once: re-drive what is lost, report what is stuck."""
    from esb.runtime import Gateway

    settings, config = settings_and_config()

    async def work() -> dict[str, Any]:
        gateway = Gateway(settings, config, load_registry())
        try:
            return await gateway.reconcile_now("cli")
        finally:
            await gateway.stop()

    typer.echo(json.dumps(run(work), indent=2))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Create or migrate the schema of ESB_DATABASE_URL (embedded: ./var/esb.db)."""
    from esb.store.migrate import upgrade_sync

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_sync(settings.effective_database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def check() -> None:
    """Validate every YAML file of ESB_CONFIG; print file:line: problem for each error."""
    settings = Settings()
    try:
        config = load_config(settings.config, load_registry(), settings.config_env())
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    targets = sum(len(i.targets) for i in config.interfaces.values())
    typer.echo(
        f"ok: {len(config.systems)} systems, {len(config.interfaces)} interfaces, "
        f"{targets} targets in {config.folder}"
    )


async def _with_engine(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from esb.store.engine import create_engine

    engine = create_engine(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


@app.command()
def replay(
    delivery_ids: Annotated[list[str] | None, typer.Argument(help="deliveries to replay")] = None,
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "",
    all_parked: Annotated[
        bool, typer.Option(help="every parked delivery (filtered below)")
    ] = False,
    interface: Annotated[str | None, typer.Option()] = None,
    target: Annotated[str | None, typer.Option()] = None,
    operator: Annotated[str, typer.Option(help="who, for the audit log")] = "cli",
) -> None:
    """Queue parked deliveries again; each replay is audited with the reason."""
    from esb.store import operator as ops

    if not reason.strip():
        raise fail("--reason is required: the audit log keeps why a delivery was replayed")
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)

    async def work(engine: Any) -> list[dict[str, Any]]:
        ids = [UUID(d) for d in delivery_ids or []]
        if all_parked:
            ids += await ops.parked(engine, interface=interface, target=target)
        return [await ops.replay(engine, i, f"cli:{operator}", reason) for i in ids]

    done = run(lambda: _with_engine(settings, work))
    for item in done:
        typer.echo(f"replayed {item['id']} (was {item['status']})")
    typer.echo(f"{len(done)} deliveries queued again; a running gateway picks them up")


@app.command()
def report(
    window: Annotated[str, typer.Option(help="e.g. 15m, 1h, 1d")] = "15m",
    as_json: Annotated[bool, typer.Option("--json", help="print the raw JSON")] = False,
) -> None:
    """The health report per interface and target."""
    from esb.report import build_report

    settings, config = settings_and_config()
    data = run(lambda: _with_engine(settings, lambda e: build_report(e, config, window)))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(
        f"{'interface/target':32} {'status':9} {'recv':>6} {'deliv':>6} {'fail':>5} "
        f"{'park':>5} {'pend':>5} {'success':>8} {'p95 ms':>8}"
    )
    for row in data["interfaces"]:
        rate = "-" if row["success_rate"] is None else f"{row['success_rate']:.1%}"
        p95 = row["attempt_latency_ms"]["p95"]
        typer.echo(
            f"{row['interface'] + '/' + row['target']:32} {row['status']:9} {row['received']:>6} "
            f"{row['delivered']:>6} {row['failed_attempts']:>5} {row['parked']:>5} "
            f"{row['pending']:>5} {rate:>8} {'-' if p95 is None else f'{p95:.1f}':>8}"
        )


@xref_app.command("import")
def xref_import(
    domain: Annotated[str, typer.Argument(help="e.g. customer")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV; header: systems")],
    reason: Annotated[str, typer.Option(help="kept in the audit log")] = "CLI import",
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
        f"{domain}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.refused} refused"
    )
    for error in result.errors:
        typer.echo(f"{file}:{error['row']}: {error['message']}", err=True)
    if result.refused > len(result.errors):
        typer.echo(f"... and {result.refused - len(result.errors)} more", err=True)
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


def _mapping(config: GatewayConfig, name: str) -> Any:
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
    from esb.mapping_tools import masterdata_xref

    _, config = settings_and_config()
    mapping = _mapping(config, name)
    context = MappingContext(xref=masterdata_xref(config.folder))
    body = _read_json(input_file)
    if expected_file is None:
        try:
            typer.echo(
                json.dumps(mapping(body, context), indent=2, ensure_ascii=False, default=str)
            )
        except EsbError as exc:
            raise fail(f"{name}: the mapping failed: {exc}", 1) from None
        return
    result = run_mapping_test(mapping, body, _read_json(expected_file), context)
    typer.echo(result.diff_text())
    if not result.ok:
        raise typer.Exit(1)


@mapping_app.command("diff")
def mapping_diff(
    name: Annotated[str, typer.Argument(help="mapping file name without .yaml")],
    last: Annotated[int, typer.Option(help="how many recent messages to replay")] = 50,
) -> None:
    """Before you deploy: run the EDITED mapping (the files on disk) on the last messages
    its interface really received, and show what each target would now receive
    differently (master data from the database). Exit 1 if anything would change."""
    from esb.mapping_tools import diff_mapping, routes_using
    from esb.xref import XrefCache

    settings, config = settings_and_config()
    mapping = _mapping(config, name)

    async def work(engine: Any) -> list[Any]:
        xref = XrefCache(engine)
        await xref.refresh()
        return [
            (r, await diff_mapping(engine, mapping, r, xref, last))
            for r in routes_using(config, name)
        ]

    changed = 0
    for (interface, target), entries in run(lambda: _with_engine(settings, work)):
        typer.echo(f"== {interface} -> {target}: last {len(entries)} messages")
        for entry in entries:
            changed += entry.changed
            for line in entry.describe():
                typer.echo(line)
    typer.echo(f"{changed} message(s) would be sent differently")
    if changed:
        raise typer.Exit(1)


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

    settings = Settings(config=demo_config_dir(), demo_standins=False)
    demo = load_config(demo_config_dir(), load_registry(), {"ESB_DATA_DIR": "var"})
    document = create_app(settings, config=demo)
    typer.echo(json.dumps(document.openapi(), indent=2, ensure_ascii=False))


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
