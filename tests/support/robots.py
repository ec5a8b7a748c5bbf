"""The chat robot stand-ins (``esb.demo_robots``) on a real socket, for the alert tests."""

from __future__ import annotations

import asyncio
import time

from esb.demo_robots import ChatRobots, RobotCall
from esb.testing.served import Served

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "ding-test-token-0123"
DINGTALK_SECRET = "SEC4f6d7c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3"


class RobotServer:
    """A WeCom robot (key ``WECOM_KEY``) and a DingTalk robot (``DINGTALK_TOKEN``, signed
    with ``DINGTALK_SECRET``), ``limit`` messages per ``per_s`` each, as the vendors do."""

    def __init__(self, limit: int = 20, per_s: float = 60.0) -> None:
        self.robots = ChatRobots(
            wecom_keys={WECOM_KEY},
            dingtalk={DINGTALK_TOKEN: DINGTALK_SECRET},
            limit=limit,
            per_s=per_s,
        )
        self.served: Served | None = None

    async def start(self) -> RobotServer:
        from starlette.applications import Starlette

        self.served = await Served(Starlette(routes=self.robots.routes())).start()
        return self

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()

    @property
    def url(self) -> str:
        assert self.served is not None
        return self.served.url

    def wecom_url(self, key: str = WECOM_KEY) -> str:
        return f"{self.url}/wecom/cgi-bin/webhook/send?key={key}"

    def dingtalk_url(self, token: str = DINGTALK_TOKEN) -> str:
        return f"{self.url}/dingtalk/robot/send?access_token={token}"

    @property
    def calls(self) -> list[RobotCall]:
        return self.robots.calls

    def shown(self, kind: str | None = None) -> list[RobotCall]:
        return self.robots.shown(kind)

    async def wait_for(self, kind: str, text: str, timeout_s: float = 60.0) -> RobotCall:
        """The first message shown containing ``text`` (fails after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for call in self.shown(kind):
                if text in call.text:
                    return call
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} message with {text!r} in {timeout_s}s: {self.calls}")

    async def wait_refused(self, errcode: int, timeout_s: float = 20.0) -> RobotCall:
        """The first call the robots answered ``errcode`` (fails after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for call in self.calls:
                if call.errcode == errcode:
                    return call
            await asyncio.sleep(0.05)
        raise AssertionError(f"no call answered {errcode} in {timeout_s}s: {self.calls}")
