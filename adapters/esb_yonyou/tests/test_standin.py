"""The Yonyou stand-in mounted under a prefix, as a demo serves it (``/demo/yonyou``): the
connector's whole U8 flow and a YonBIP call work through the prefix."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from esb.sdk import Delivered
from esb.testing import delivery_request
from esb.testing.served import Served
from esb.testing.yonyou import YonyouServer
from esb_yonyou.tests.conftest import Make, u8_options, yonbip_options


async def test_the_stand_in_works_mounted_under_a_prefix(make: Make) -> None:
    standin = YonyouServer(processing_polls=1)
    served = await Served(Starlette(routes=[Mount("/demo/yonyou", app=standin.app())])).start()
    try:
        prefixed = f"{served.url}/demo/yonyou"
        u8 = make({**u8_options(standin), "base_url": prefixed})
        bip = make(
            yonbip_options(
                standin,
                base_url=f"{prefixed}/iuap-api-gateway",
                token_url=f"{prefixed}/iuap-api-auth",  # the host alone would miss the prefix
            )
        )
        u8_outcome = await u8.deliver(delivery_request({"saleorder": {"code": "SO-9"}}))
        bip_outcome = await bip.deliver(delivery_request({"code": "SO-9"}))
    finally:
        await served.stop()
    assert isinstance(u8_outcome, Delivered), u8_outcome
    assert isinstance(bip_outcome, Delivered), bip_outcome
    assert standin.result_polls == 2
    assert len(standin.documents) == 2
