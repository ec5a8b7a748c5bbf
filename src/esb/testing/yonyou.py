"""The Yonyou stand-in (``esb.standins.yonyou``) on a real socket, for tests."""

from __future__ import annotations

from dataclasses import dataclass

from esb.standins.yonyou import YonyouStandIn
from esb.testing.served import Served

__all__ = ["YonyouServer"]


@dataclass
class YonyouServer(YonyouStandIn):
    """``start`` serves it on 127.0.0.1; the port is kept across ``stop``/``start``."""

    served: Served | None = None
    port: int = 0  # 0: any free port, kept across stop/start

    async def start(self) -> YonyouServer:
        self.served = await Served(self.app(), self.port).start()
        self.port = self.served.port
        return self

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()
            self.served = None

    @property
    def url(self) -> str:
        """Where it listens (port 0 until the first ``start``)."""
        return f"http://127.0.0.1:{self.port}"
