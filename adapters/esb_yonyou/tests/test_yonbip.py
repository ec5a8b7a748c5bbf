"""The YonBIP self-built app flavour against the stand-in over real HTTP: the signed
token, held for its life, and how failures are classified."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time

import httpx
import pytest

from esb.sdk import Delivered, Park, RetryLater
from esb.testing import delivery_request
from esb.testing.yonyou import YonyouServer
from esb_yonyou import YonyouConfig, signature
from esb_yonyou.tests.conftest import Make, yonbip_options

ORDER = {"code": "SO-1", "agentId": "C001", "orderDetails": [{"productId": "A001", "qty": 2}]}


def test_the_signature_is_hmac_sha256_of_the_sorted_parameters_in_base64() -> None:
    # the publication's example: appKey 41832a3d..., timestamp 1568098531823 sign the text
    # "appKey41832a3d2df94989b500da6a22268747timestamp1568098531823"
    params = {"timestamp": "1568098531823", "appKey": "41832a3d2df94989b500da6a22268747"}
    text = b"appKey41832a3d2df94989b500da6a22268747timestamp1568098531823"
    expected = base64.b64encode(hmac.new(b"secret", text, hashlib.sha256).digest()).decode()
    assert signature(params, "secret") == expected
    assert signature({**params, "signature": "ignored"}, "secret") == expected


async def test_one_signed_token_serves_many_deliveries(standin: YonyouServer, make: Make) -> None:
    bip = make(yonbip_options(standin))
    outcomes = [await bip.deliver(delivery_request(ORDER)) for _ in range(5)]
    assert all(isinstance(o, Delivered) for o in outcomes), outcomes
    assert standin.yonbip_token_requests == 1
    assert [d["body"] for d in standin.documents] == [ORDER] * 5
    first = outcomes[0]
    assert isinstance(first, Delivered)
    assert first.detail == {"code": "200", "id": standin.documents[0]["id"]}


async def test_a_wrong_secret_parks_with_a_clear_reason(standin: YonyouServer, make: Make) -> None:
    bip = make(yonbip_options(standin, app_secret="not-the-secret"))
    outcomes = [await bip.deliver(delivery_request(ORDER)) for _ in range(2)]
    assert all(isinstance(o, Park) for o in outcomes), outcomes
    first = outcomes[0]
    assert isinstance(first, Park)
    assert "YonBIP refused getAccessToken (code 1090003500030: 签名校验失败)" in first.reason
    assert "check app_key and app_secret" in first.reason
    assert standin.writes == []


async def test_an_expired_token_is_renewed_and_the_call_repeated_once(
    standin: YonyouServer, make: Make
) -> None:
    bip = make(yonbip_options(standin))
    assert isinstance(await bip.deliver(delivery_request(ORDER)), Delivered)
    standin.expire_tokens()
    outcome = await bip.deliver(delivery_request(ORDER))
    assert isinstance(outcome, Delivered), outcome
    assert standin.yonbip_token_requests == 2
    assert [w.applied for w in standin.writes] == [True, False, True]


async def test_business_error_parks_busy_and_5xx_retry(standin: YonyouServer, make: Make) -> None:
    bip = make(yonbip_options(standin))
    standin.write_error = ("1090001001", "客户[C001]不存在")
    parked = await bip.deliver(delivery_request(ORDER))
    standin.write_error, standin.busy = None, True
    busy = await bip.deliver(delivery_request(ORDER))
    standin.busy, standin.fail_status = False, 502
    down = await bip.deliver(delivery_request(ORDER))
    assert isinstance(parked, Park), parked
    assert parked.reason == "YonBIP: code 1090001001: 客户[C001]不存在"
    assert isinstance(busy, RetryLater), busy
    assert "code 429" in busy.reason
    assert isinstance(down, RetryLater), down
    assert down.status_code == 502


async def test_the_stand_in_verifies_the_signature_and_its_window(
    standin: YonyouServer,
) -> None:
    url = "/iuap-api-auth/open-auth/selfAppAuth/getAccessToken"

    def signed(timestamp: int, secret: str) -> dict[str, str]:
        params = {"appKey": standin.app_key, "timestamp": str(timestamp)}
        return {**params, "signature": signature(params, secret)}

    now = int(time.time() * 1000)
    async with httpx.AsyncClient(base_url=standin.url) as client:
        good = (await client.get(url, params=signed(now, standin.app_secret))).json()
        wrong = (await client.get(url, params=signed(now, "other"))).json()
        stale = (await client.get(url, params=signed(now - 3_600_000, standin.app_secret))).json()
    assert good["code"] == "00000"
    assert good["data"]["expire"] == standin.token_lifetime
    assert (wrong["code"], wrong["message"]) == ("1090003500030", "签名校验失败")
    assert stale["message"] == "时间戳已过期"


def test_each_flavour_takes_its_own_options() -> None:
    base = {"kind": "yonyou", "base_url": "http://u8.example", "path": "/api/x/add"}
    secret = {"app_key": "k", "app_secret": "s"}
    with pytest.raises(ValueError, match="api u8 needs from_account and to_account"):
        YonyouConfig.model_validate({**base, **secret, "api": "u8"})
    with pytest.raises(ValueError, match="for api u8 only"):
        YonyouConfig.model_validate({**base, **secret, "api": "yonbip", "from_account": "a"})
    with pytest.raises(ValueError, match="Extra inputs"):
        YonyouConfig.model_validate({**base, **secret, "api": "u8", "tradeid": "x"})


def test_the_flavours_have_their_own_default_codes() -> None:
    base = {"kind": "yonyou", "base_url": "http://h", "path": "/p", "app_key": "k"}
    u8 = YonyouConfig.model_validate(
        {**base, "api": "u8", "app_secret": "s", "from_account": "f", "to_account": "t"}
    ).codes()
    bip = YonyouConfig.model_validate({**base, "api": "yonbip", "app_secret": "s"}).codes()
    mine = YonyouConfig.model_validate(
        {**base, "api": "yonbip", "app_secret": "s", "busy_codes": ["310046"]}
    ).codes()
    assert u8.success == frozenset({"0"})
    assert bip.success == frozenset({"200", "00000"})
    assert "20002" in u8.token
    assert "30002" in u8.processing
    assert mine.busy == {"310046"}


async def test_twenty_concurrent_deliveries_share_one_signed_token(
    standin: YonyouServer, make: Make
) -> None:
    bip = make(yonbip_options(standin))
    outcomes = await asyncio.gather(*(bip.deliver(delivery_request(ORDER)) for _ in range(20)))
    standin.expire_tokens()
    renewed = await asyncio.gather(*(bip.deliver(delivery_request(ORDER)) for _ in range(20)))
    assert all(isinstance(o, Delivered) for o in [*outcomes, *renewed])
    assert standin.yonbip_token_requests == 2  # the first, and one renewal for all twenty
    assert len(standin.documents) == 40
