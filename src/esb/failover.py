"""One AMQP connection over the nodes of a RabbitMQ cluster: ``ESB_BROKER_URL`` may list
several URLs, comma-separated, and every connect or reconnect tries them in turn.

aio-pika's robust connection reconnects (and restores channels and consumers) by
itself, but always to the one URL it was given: with that node dead it would knock
on it forever. Here each attempt walks the list once, starting after the node it was
last connected to (the one that just went away), and gives up only when no node
answered; the robust connection then pauses and walks the list again.

Where one address already reaches every node (a Kubernetes Service in front of a
RabbitMQ cluster, a load balancer) a single URL is enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aio_pika import RobustConnection
from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from yarl import URL

#: Seconds between two walks over the list when no node answered.
RECONNECT_PAUSE_S = 1.0


class FailoverConnection(RobustConnection):
    """A robust connection whose every (re)connect tries the cluster's nodes in turn."""

    def __init__(self, urls: Sequence[str], **kwargs: Any) -> None:
        if not urls:
            raise ValueError("no RabbitMQ URL")
        self.urls = [URL(url) for url in urls]
        self._next = 0
        super().__init__(self.urls[0], reconnect_interval=RECONNECT_PAUSE_S, **kwargs)

    # aio-pika calls this (name-mangled, private) method for every connection attempt,
    # the first and each reconnect; it connects to ``self.url``.
    async def _RobustConnection__connect_transport(self) -> None:
        attempt = RobustConnection._RobustConnection__connect_transport  # type: ignore[attr-defined]
        failure: BaseException | None = None
        for _ in self.urls:
            self.url = self.urls[self._next]
            self._next = (self._next + 1) % len(self.urls)
            try:
                await attempt(self)
                return
            except CONNECTION_EXCEPTIONS as exc:
                failure = exc
        assert failure is not None
        raise failure


async def connect(urls: Sequence[str], *, timeout: float, name: str) -> AbstractRobustConnection:
    """Connect to the first node of ``urls`` that answers (``ConnectionError`` and the like
    when none does, as ``aio_pika.connect_robust`` raises)."""
    connection = FailoverConnection(
        urls, loop=asyncio.get_running_loop(), client_properties={"connection_name": name}
    )
    await connection.connect(timeout=timeout)
    return connection
