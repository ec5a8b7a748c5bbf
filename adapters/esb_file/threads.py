"""Blocking file work on daemon threads, so a hung share never holds the loop or the exit.

asyncio's shared executor joins its threads when the process stops, so one read or
write stuck on a network share that stopped answering would hang the shutdown. These
helpers start a fresh daemon thread instead: the loop waits on a future, and a thread
that never returns is abandoned when the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

__all__ = ["blocking", "iterate_on_daemon_thread", "on_daemon_thread"]

T = TypeVar("T")
_DONE = object()


def on_daemon_thread(work: Callable[[], T], finished: Callable[[], None]) -> asyncio.Future[T]:
    """Run ``work`` on a fresh daemon thread; ``finished`` runs on the loop when it ends,
    even if the caller stopped waiting (so a stuck write keeps its slot until it returns)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        finished()
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # handed to the loop, which re-raises it to the caller
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    try:
        threading.Thread(target=run, name="esb-file-io", daemon=True).start()
    except RuntimeError:
        finished()
        raise
    return future


async def blocking(work: Callable[[], T]) -> T:
    """``work()`` on a daemon thread, awaited."""
    return await on_daemon_thread(work, lambda: None)


async def iterate_on_daemon_thread(
    produce: Callable[[], Iterator[T]], *, ahead: int = 2
) -> AsyncGenerator[T, None]:
    """The items of ``produce()``, computed on a daemon thread at most ``ahead`` in advance.

    The thread blocks while ``ahead`` items wait, so memory stays bounded however long
    the iterator is; it stops soon after the consumer does. Its exceptions re-raise here.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(ahead)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        put = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        while not stop.is_set():
            with contextlib.suppress(FutureTimeout):
                put.result(timeout=0.2)
                return True
        put.cancel()
        return False

    def run() -> None:
        items: Iterator[T] | None = None
        try:
            items = produce()
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as exc:  # re-raised on the loop by the consumer
            with contextlib.suppress(RuntimeError):
                hand_over(_Failed(exc))
        finally:
            if items is not None:  # a generator's cleanup (closing its file) runs here, now
                getattr(items, "close", lambda: None)()

    threading.Thread(target=run, name="esb-file-read", daemon=True).start()
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error
