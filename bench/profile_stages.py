"""Sort a py-spy profile of ``esb worker`` into the stages of a delivery.

A flat profile says little function by function; this asks of each sample which step of
a delivery it belongs to (the first stage, in the order below, whose frame is on its
stack) and prints each stage's share of the busy samples. The worker's start-up and the
config watcher's idle thread (py-spy counts its sleep inside native code as busy) are
left out. Stages marked * are work the reference pipeline's consumer does too (receive,
the HTTP call, the ack); the others are what the gateway adds to a delivery.

    py-spy record -r 250 -f raw -o worker.raw -- esb worker   (bench/worker_drain.sh)
    python bench/profile_stages.py worker.raw
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

#: (stage, a pattern for one of its frames); the first that matches a sample wins
STAGES: list[tuple[str, str]] = [
    ("(idle: config watcher)", r"WorkerThread\.run"),
    ("decode the task", r"DeliveryTask\.decode"),
    ("map", r"Deliverer\._map|Deliverer\.prepare"),
    ("check before the call", r"check_claims"),
    ("* HTTP call", r"call_connector"),
    ("record the outcome (commit)", r"GroupCommit\._run|write_outcomes"),
    ("hand over the outcome", r"GroupCommit\.submit"),
    ("* ack", r"BrokerWorker\._settle"),
    ("metrics", r"Metrics\."),
    ("delivery's own steps", r"Deliverer\."),
    ("worker's own steps", r"BrokerWorker\.|TaskSet\."),
    ("* receive (AMQP)", r"aiormq|aio_pika|pamqp"),
    ("* HTTP responses", r"aiohttp"),
    # a statement's synchronous part runs in SQLAlchemy's greenlet, whose stack does not
    # show the coroutine that awaits it (the check or the outcome write)
    ("database statements (SQLAlchemy's greenlet)", r"sqlalchemy|asyncpg"),
    ("(start-up)", r"_find_and_load|load_registry|settings_and_config|freeze_startup"),
]


def stage_of(stack: str) -> str:
    for name, pattern in STAGES:
        if re.search(pattern, stack):
            return name
    return "event loop (uvloop, native) and the rest"


def shares(raw: Path) -> tuple[int, Counter[str]]:
    """Busy samples and samples per stage, from py-spy's raw (collapsed) output."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        counts[stage_of(stack)] += int(n)
    busy = sum(n for name, n in counts.items() if not name.startswith("("))
    return busy, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="py-spy record -f raw output")
    busy, counts = shares(parser.parse_args().raw)
    print(f"| stage | share of {busy:,} busy samples |")
    print("|---|---:|")
    for name, n in counts.most_common():
        if not name.startswith("("):
            print(f"| {name} | {100 * n / busy:.1f} % |")
    shared = sum(n for name, n in counts.items() if name.startswith("*"))
    print(f"| *shared with the reference's consumer* | {100 * shared / busy:.1f} % |")


if __name__ == "__main__":
    main()
