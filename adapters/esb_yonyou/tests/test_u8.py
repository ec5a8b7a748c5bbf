"""The U8 OpenAPI flavour against the stand-in over real HTTP: token, trade id,
asynchronous result, and how every failure is classified."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from esb.sdk import Delivered, Park, RetryLater
from esb.testing import delivery_request
from esb.testing.yonyou import YonyouServer
from esb_yonyou.tests.conftest import Make, u8_options

ORDER = {"saleorder": {"code": "SO-1", "cuscode": "C001", "entry": [{"inventorycode": "A001"}]}}


async def test_a_result_processing_then_success_is_delivered(
    standin: YonyouServer, make: Make
) -> None:
    standin.processing_polls = 2
    request = delivery_request(ORDER)
    outcome = await make(u8_options(standin)).deliver(request)
    assert isinstance(outcome, Delivered), outcome
    [document] = standin.documents
    assert outcome.detail == {
        "tradeid": document["tradeid"],
        "id": document["id"],
        "errmsg": "成功",
    }
    assert document["body"] == ORDER
    assert standin.result_polls == 3  # processing, processing, success
    assert (standin.token_requests, standin.tradeid_requests) == (1, 1)
    [write] = standin.writes
    assert write.biz_id == request.idempotency_key


async def test_an_expired_token_is_renewed_once_for_20_concurrent_deliveries(
    standin: YonyouServer, make: Make
) -> None:
    u8 = make(u8_options(standin))
    assert isinstance(await u8.deliver(delivery_request(ORDER)), Delivered)
    standin.expire_tokens()  # the connector still holds the old one
    outcomes = await asyncio.gather(*(u8.deliver(delivery_request(ORDER)) for _ in range(20)))
    assert all(isinstance(o, Delivered) for o in outcomes), outcomes
    assert standin.token_requests == 2  # the first, and one renewal for all twenty
    assert len(standin.documents) == 21
    assert len({d["tradeid"] for d in standin.documents}) == 21


async def test_a_business_error_parks_with_the_message_in_chinese(
    standin: YonyouServer, make: Make
) -> None:
    standin.processing_polls = 1
    standin.business_error = ("90001", "存货编码 A001 不存在")
    outcome = await make(u8_options(standin)).deliver(delivery_request(ORDER))
    assert isinstance(outcome, Park), outcome
    assert "errcode 90001: 存货编码 A001 不存在" in outcome.reason
    assert standin.documents == []


async def test_a_refused_write_parks_and_a_replay_gets_a_fresh_trade_id(
    standin: YonyouServer, make: Make
) -> None:
    u8 = make(u8_options(standin))
    standin.write_error = ("90002", "客户编码 C001 不存在")
    request = delivery_request(ORDER)
    outcome = await u8.deliver(request)
    assert isinstance(outcome, Park), outcome
    assert "客户编码 C001 不存在" in outcome.reason
    standin.write_error = None  # the operator fixed the customer, then replays
    assert isinstance(await u8.deliver(dataclasses.replace(request, attempt=2)), Delivered)
    assert standin.tradeid_requests == 2
    assert len(standin.documents) == 1


async def test_http_5xx_is_retried_later(standin: YonyouServer, make: Make) -> None:
    standin.fail_status = 503
    outcome = await make(u8_options(standin)).deliver(delivery_request(ORDER))
    assert isinstance(outcome, RetryLater), outcome
    assert outcome.status_code == 503
    assert "U8 token: HTTP 503" in outcome.reason


async def test_busy_is_retried_later(standin: YonyouServer, make: Make) -> None:
    u8 = make(u8_options(standin))
    await u8.flow.tokens.get()
    standin.busy = True
    outcome = await u8.deliver(delivery_request(ORDER))
    assert isinstance(outcome, RetryLater), outcome
    assert "busy, errcode 10001" in outcome.reason


async def test_still_processing_at_the_timeout_retries_with_the_same_trade_id(
    standin: YonyouServer, make: Make
) -> None:
    standin.processing_polls = 10_000
    u8 = make(u8_options(standin, timeout={"total": "600ms"}))
    request = delivery_request(ORDER)
    started = asyncio.get_running_loop().time()
    first = await u8.deliver(request)
    assert asyncio.get_running_loop().time() - started < 1.2
    assert isinstance(first, RetryLater), first
    assert "still processing" in first.reason
    standin.finish_processing()
    second = await u8.deliver(dataclasses.replace(request, attempt=2))
    assert isinstance(second, Delivered), second
    assert standin.tradeid_requests == 1
    assert [w.tradeid for w in standin.writes] == [standin.writes[0].tradeid] * 2
    assert [w.applied for w in standin.writes] == [True, False]
    assert len(standin.documents) == 1


async def test_a_repeat_after_a_restart_is_recognised_by_its_biz_id(
    standin: YonyouServer, make: Make
) -> None:
    request = delivery_request(ORDER)
    assert isinstance(await make(u8_options(standin)).deliver(request), Delivered)
    again = await make(u8_options(standin)).deliver(dataclasses.replace(request, attempt=2))
    assert isinstance(again, Delivered), again  # a new process: no trade id remembered
    assert standin.tradeid_requests == 2
    assert len(standin.documents) == 1


async def test_a_wrong_app_secret_parks_with_a_clear_reason(
    standin: YonyouServer, make: Make
) -> None:
    u8 = make(u8_options(standin, app_secret="not-the-secret"))
    outcomes = [await u8.deliver(delivery_request(ORDER)) for _ in range(2)]
    assert all(isinstance(o, Park) for o in outcomes), outcomes
    first = outcomes[0]
    assert isinstance(first, Park)
    assert (
        "U8 refused the app's credentials (errcode 20001: app_key或app_secret错误)" in first.reason
    )
    assert "not-the-secret" not in first.reason
    assert standin.writes == []


async def test_the_stand_in_refuses_a_write_without_a_trade_id_it_issued(
    standin: YonyouServer,
) -> None:
    account = {"from_account": standin.from_account, "app_key": standin.app_key}
    async with httpx.AsyncClient(base_url=standin.url) as client:
        secret = {"app_secret": standin.app_secret}
        token = (await client.get("/system/token", params={**account, **secret})).json()
        params = {**account, "to_account": standin.to_account, "token": token["token"]["id"]}
        made_up = await client.post("/api/saleorder/add", params=params, json=ORDER)
        standin.expire_tokens()
        expired = await client.get("/system/tradeid", params={**account, "token": params["token"]})
    assert made_up.json()["errcode"] == "20010"
    assert expired.json()["errcode"] == "20002"
    assert standin.documents == []
