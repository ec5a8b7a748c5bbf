"""The floor: the gateway's durable pipeline with no framework, to measure the gateway against.

Same durability and the same library classes as the gateway, none of its features:

production  a raw ASGI app under uvicorn (uvloop, httptools): check the bearer key,
            parse the JSON, INSERT + COMMIT one row with asyncpg (a unique key makes
            a repeat return the first id), answer 202. A relay claims unsent rows
            with FOR UPDATE SKIP LOCKED, publishes the batch to RabbitMQ (aio-pika,
            persistent, mandatory, publisher confirms), marks them sent and commits.
            A consumer (manual ack, bounded prefetch) POSTs each body to the target
            with a pooled aiohttp session (the gateway's REST connector uses aiohttp
            too) and acks after the 2xx.
embedded    the same ingress on SQLite (WAL, synchronous=FULL, INSERT + COMMIT per
            message on one connection in its own thread), then an in-process
            dispatcher POSTs and marks rows done in batched commits.

What it leaves out (the gateway's job, not the floor's): routing by configuration,
schema checks, attempts and delivery states, retries, parking, reports.

    python bench/reference_pipeline.py production --port 8100 --key K \\
        --target http://127.0.0.1:9100/orders \\
        --database-url postgresql://127.0.0.1:5432/ref --broker-url amqp://guest:guest@127.0.0.1/
    python bench/reference_pipeline.py embedded --port 8100 --key K \\
        --target http://127.0.0.1:9100/orders --data-dir /tmp/ref
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import aio_pika
import aiohttp
import asyncpg
import orjson
import uvicorn
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS ref_message (
    id bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    body text NOT NULL,
    sent boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ref_message_unsent ON ref_message (id) WHERE NOT sent;
"""
PG_INSERT = (
    "INSERT INTO ref_message (key, body) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING id"
)
PG_CLAIM = (
    "SELECT id, body FROM ref_message WHERE NOT sent ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
)
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS ref_message (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
"""


class Store(Protocol):
    async def start(self) -> None: ...
    async def accept(self, key: str, body: str) -> int: ...
    async def stop(self) -> None: ...


# -- the HTTP door -----------------------------------------------------------------------
class Ingress:
    """A raw ASGI app: POST /v1/messages/<type> -> stored -> 202; GET /healthz."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.expected = f"Bearer {key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["path"] == "/healthz":
            await respond(send, 200, b'{"status":"ok"}')
        elif scope["method"] == "POST" and scope["path"].startswith("/v1/messages/"):
            await self.post(scope, receive, send)
        else:
            await respond(send, 404, b'{"error":"not found"}')

    async def post(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = dict(scope["headers"]).get(b"authorization", b"")
        if not hmac.compare_digest(auth, self.expected):
            await respond(send, 401, b'{"error":"unauthorized"}')
            return
        raw = await read_body(receive)
        try:
            if not isinstance(orjson.loads(raw), dict):
                raise ValueError("not an object")
        except ValueError:
            await respond(send, 422, b'{"error":"body is not a JSON object"}')
            return
        key = hashlib.sha256(raw).hexdigest()
        message_id = await self.store.accept(key, raw.decode())
        await respond(send, 202, b'{"id":%d,"status":"accepted"}' % message_id)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await self.store.start()
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await self.store.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        event = await receive()
        chunks.append(event.get("body", b""))
        if not event.get("more_body"):
            return b"".join(chunks)


async def respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def target_client(connections: int) -> aiohttp.ClientSession:
    """A pooled keep-alive session; created inside the running loop."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=30.0),
    )


async def post(client: aiohttp.ClientSession, url: str, body: bytes | str) -> bool:
    """True for a 2xx; any failure means "try again later"."""
    try:
        async with client.post(url, data=body) as response:
            await response.read()
            return 200 <= response.status < 300
    except (aiohttp.ClientError, TimeoutError):
        return False


class Background:
    """The loops a store runs besides ingress, cancelled together on stop."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# -- production: PostgreSQL outbox -> RabbitMQ -> target ------------------------------------
class BrokerPipeline:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.queue_name = f"{args.prefix}.ref"
        self.pool: asyncpg.Pool | None = None
        self.connection: aio_pika.abc.AbstractRobustConnection | None = None
        self.exchange: AbstractExchange | None = None
        self.client: aiohttp.ClientSession | None = None
        self.wakeup = asyncio.Event()
        self.background = Background()

    async def start(self) -> None:
        a = self.args
        self.client = target_client(a.prefetch)
        self.pool = await asyncpg.create_pool(a.database_url, min_size=a.pool, max_size=a.pool)
        await self.pool.execute(PG_SCHEMA)
        self.connection = await aio_pika.connect_robust(a.broker_url)
        publish = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        self.exchange = await publish.declare_exchange(
            self.queue_name, aio_pika.ExchangeType.DIRECT, durable=True
        )
        consume = await self.connection.channel()
        await consume.set_qos(prefetch_count=a.prefetch)
        queue = await consume.declare_queue(
            self.queue_name, durable=True, arguments={"x-queue-type": a.queue_type}
        )
        await queue.bind(self.exchange, self.queue_name)
        await queue.consume(self.on_message, no_ack=False)
        self.background.spawn(self.relay())

    async def accept(self, key: str, body: str) -> int:
        assert self.pool is not None
        message_id = await self.pool.fetchval(PG_INSERT, key, body)
        if message_id is None:  # a repeat: the first message's id
            return int(await self.pool.fetchval("SELECT id FROM ref_message WHERE key=$1", key))
        self.wakeup.set()
        return int(message_id)

    async def relay(self) -> None:
        while True:
            try:
                moved = await self.relay_once()
            except (OSError, asyncpg.PostgresError, aio_pika.exceptions.AMQPError) as exc:
                print(f"relay: {exc!r}; retrying", flush=True)
                await asyncio.sleep(0.5)
                continue
            if moved < self.args.batch:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.args.poll_interval)

    async def relay_once(self) -> int:
        assert self.pool is not None
        assert self.exchange is not None
        exchange = self.exchange
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(PG_CLAIM, self.args.batch)
            if rows:
                await asyncio.gather(
                    *(
                        exchange.publish(
                            aio_pika.Message(
                                row["body"].encode(),
                                message_id=str(row["id"]),
                                content_type="application/json",
                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            ),
                            self.queue_name,
                            mandatory=True,
                        )
                        for row in rows
                    )
                )
                ids = [row["id"] for row in rows]
                await conn.execute("UPDATE ref_message SET sent = true WHERE id = ANY($1)", ids)
        return len(rows)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        self.background.spawn(self.deliver(message))

    async def deliver(self, message: AbstractIncomingMessage) -> None:
        assert self.client is not None
        if await post(self.client, self.args.target, message.body):
            await message.ack()
        else:
            await asyncio.sleep(1.0)
            await message.nack(requeue=True)

    async def stop(self) -> None:
        await self.background.cancel()
        if self.client is not None:
            await self.client.close()
        if self.connection is not None:
            await self.connection.close()
        if self.pool is not None:
            await self.pool.close()


# -- embedded: SQLite, then an in-process dispatcher ---------------------------------------
class EmbeddedPipeline:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self.db: sqlite3.Connection | None = None
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self.done: list[int] = []
        self.done_ready = asyncio.Event()
        self.client: aiohttp.ClientSession | None = None
        self.background = Background()

    async def in_db(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        def run() -> Any:
            assert self.db is not None
            return work(self.db)

        return await asyncio.get_running_loop().run_in_executor(self.db_thread, run)

    def open(self) -> list[tuple[int, str]]:
        """Open the file; the rows not done yet (a restart) go back to the dispatcher."""
        data_dir = Path(self.args.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(data_dir / "ref.db", isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SQLITE_SCHEMA)
        self.db = db
        return db.execute("SELECT id, body FROM ref_message WHERE done = 0 ORDER BY id").fetchall()

    async def start(self) -> None:
        self.client = target_client(self.args.concurrency)
        loop = asyncio.get_running_loop()
        for row in await loop.run_in_executor(self.db_thread, self.open):
            self.queue.put_nowait(row)
        for _ in range(self.args.concurrency):
            self.background.spawn(self.dispatch())
        self.background.spawn(self.mark_done())

    async def accept(self, key: str, body: str) -> int:
        def insert(db: sqlite3.Connection) -> tuple[int, bool]:
            cursor = db.execute(
                "INSERT INTO ref_message (key, body) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, body),
            )
            if cursor.rowcount == 1:
                return int(cursor.lastrowid or 0), True
            row = db.execute("SELECT id FROM ref_message WHERE key = ?", (key,)).fetchone()
            return int(row[0]), False

        message_id, created = await self.in_db(insert)  # autocommit: INSERT + COMMIT
        if created:
            self.queue.put_nowait((message_id, body))
        return int(message_id)

    async def dispatch(self) -> None:
        assert self.client is not None
        while True:
            message_id, body = await self.queue.get()
            while True:  # the target is down: try again later, in order
                if await post(self.client, self.args.target, body):
                    break
                await asyncio.sleep(1.0)
            self.done.append(message_id)
            self.done_ready.set()

    async def mark_done(self) -> None:
        while True:
            await self.done_ready.wait()
            self.done_ready.clear()
            await self.commit_done()

    async def commit_done(self) -> None:
        """One transaction for every message delivered since the last one."""
        ids, self.done = [(i,) for i in self.done], []

        def commit(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("UPDATE ref_message SET done = 1 WHERE id = ?", ids)
            db.execute("COMMIT")

        if ids:
            await self.in_db(commit)

    async def stop(self) -> None:
        await self.background.cancel()
        if self.client is not None:
            await self.client.close()
        await self.commit_done()
        await self.in_db(lambda db: db.close())
        self.db_thread.shutdown()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["production", "embedded"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--key", required=True, help="the bearer key callers must send")
    parser.add_argument("--target", required=True, help="URL every message is POSTed to")
    parser.add_argument("--database-url", help="production: postgresql://...")
    parser.add_argument("--broker-url", help="production: amqp://...")
    parser.add_argument("--prefix", default="esbref", help="production: exchange/queue prefix")
    parser.add_argument("--queue-type", choices=["quorum", "classic"], default="quorum")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL connections")
    parser.add_argument("--batch", type=int, default=256, help="rows per relay transaction")
    parser.add_argument("--poll-interval", type=float, default=0.25, help="idle relay poll, s")
    parser.add_argument("--prefetch", type=int, default=64, help="unacked messages in flight")
    parser.add_argument("--data-dir", default="var/reference", help="embedded: SQLite folder")
    parser.add_argument("--concurrency", type=int, default=32, help="embedded: parallel POSTs")
    args = parser.parse_args()
    if args.mode == "production" and not (args.database_url and args.broker_url):
        parser.error("production needs --database-url and --broker-url")
    return args


def main() -> None:
    args = parse_args()
    store: Store = BrokerPipeline(args) if args.mode == "production" else EmbeddedPipeline(args)
    uvicorn.run(
        Ingress(store, args.key),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
