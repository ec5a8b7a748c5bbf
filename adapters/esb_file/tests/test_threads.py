"""Reading on a daemon thread: bounded look-ahead, errors handed over, stop when the reader
stops, and the producer's cleanup run on its own thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from esb_file.threads import blocking, iterate_on_daemon_thread


async def test_items_arrive_in_order_and_the_thread_runs_only_a_little_ahead() -> None:
    produced: list[int] = []

    def numbers() -> Iterator[int]:
        for n in range(100):
            produced.append(n)
            yield n

    reader = iterate_on_daemon_thread(numbers, ahead=2)
    assert await reader.__anext__() == 0
    await asyncio.sleep(0.2)
    assert len(produced) <= 4  # one taken, two waiting, one being handed over
    rest = [n async for n in reader]
    assert rest == list(range(1, 100))


async def test_an_error_of_the_producer_is_raised_to_the_reader() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise OSError("share went away")

    got: list[int] = []

    async def read_all() -> None:
        async for n in iterate_on_daemon_thread(failing):
            got.append(n)

    with pytest.raises(OSError, match="share went away"):
        await read_all()
    assert got == [1]


async def test_the_thread_stops_and_cleans_up_when_the_reader_stops() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    reader = iterate_on_daemon_thread(endless)
    async with contextlib.aclosing(reader):
        async for n in reader:
            if n == 3:
                break
    assert await asyncio.to_thread(closed.wait, 2)


async def test_blocking_work_runs_off_the_loop() -> None:
    loop_thread = threading.get_ident()
    assert await blocking(threading.get_ident) != loop_thread
