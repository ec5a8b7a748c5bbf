"""An example connector from outside the gateway's tree: it "delivers" by echoing the body.

It shows everything a connector needs: a config model with ``kind``, a constructor that
takes the config and the context, ``deliver`` returning an outcome, and ``aclose``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from esb.connectors import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
)


class EchoConfig(ConnectorConfig):
    kind: Literal["echo"] = "echo"
    prefix: str = Field(default="", description="put before every echoed business key")
    refuse_empty: bool = Field(default=True, description="park a message without a body")


class EchoConnector:
    kind: ClassVar[str] = "echo"
    Config: ClassVar[type[ConnectorConfig]] = EchoConfig

    def __init__(self, config: EchoConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        if self.config.refuse_empty and not request.body:
            return Park("empty body")
        key = f"{self.config.prefix}{request.business_key}"
        return Delivered(detail={"echo": request.body, "key": key})

    async def aclose(self) -> None:
        return None
