"""The ``kingdee`` connector against the K/3 Cloud stand-in on a real socket: the scenario's
vectors, lost sessions, lost answers, field errors, refused logins and concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from esb.connectors import load_registry
from esb.sdk import ConnectorContext, Delivered, Park, RetryLater
from esb.standins.kingdee import KingdeeStandIn
from esb.testing import TargetServer, delivery_request
from esb.testing.served import Served, free_port
from esb_kingdee import KingdeeConfig, KingdeeConnector
from esb_kingdee.tests.test_contract import model

EXPECTED = Path(__file__).parents[3] / "tests" / "data" / "scenario" / "expected"
VECTORS = ["kingdee_PRD_INSTOCK_MES-CPL-1.json", "kingdee_PRD_INSTOCK_MES-CPL-2.json"]
ACCT, USER, PASSWORD = "6512a0b7e4c3f1", "esb", "k3-pa55word"
APP_ID, APP_SECRET = "238490_x7Q1", "app-s3cret-never-shown"


@pytest.fixture
async def kingdee() -> AsyncIterator[tuple[KingdeeStandIn, str]]:
    standin = KingdeeStandIn(
        users={(ACCT, USER): PASSWORD}, apps={(ACCT, USER, APP_ID): APP_SECRET}
    )
    served = await Served(standin.app()).start()
    yield standin, f"{served.url}/k3cloud"
    standin.stop_failing()
    await served.stop()


def connector(url: str, **options: Any) -> KingdeeConnector:
    given: dict[str, Any] = {
        "url": url,
        "acct_id": ACCT,
        "username": USER,
        "password": PASSWORD,
        "form_id": "PRD_INSTOCK",
        "timeout": {"connect": 2, "total": 5},
    }
    given.update(options)
    registry = load_registry()
    config = registry.connector_config("kingdee", given)
    built = registry.build(config, _context())
    assert isinstance(built, KingdeeConnector)
    return built


def _context() -> ConnectorContext:
    return ConnectorContext(Path("."), "finance", "production-report")


def vector(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXPECTED / name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("envelope", ["json", "parameters"])
async def test_the_scenario_vectors_are_what_kingdee_receives(
    kingdee: tuple[KingdeeStandIn, str], envelope: str
) -> None:
    standin, url = kingdee
    kd = connector(url, envelope=envelope)
    outcomes = [await kd.deliver(delivery_request(vector(v)["Model"])) for v in VECTORS]
    await kd.aclose()
    assert [type(o) for o in outcomes] == [Delivered, Delivered], outcomes
    assert standin.received() == [vector(v) for v in VECTORS]
    assert [d.status for d in standin.documents] == ["C", "C"]  # IsAutoSubmitAndAudit
    first = outcomes[0]
    assert isinstance(first, Delivered)
    assert first.detail == {"form_id": "PRD_INSTOCK", "id": 100001, "number": "MES-CPL-1"}
    assert standin.logins == 1


async def test_login_by_app_secret(kingdee: tuple[KingdeeStandIn, str]) -> None:
    standin, url = kingdee
    kd = connector(url, password=None, app_id=APP_ID, app_secret=APP_SECRET)
    outcome = await kd.deliver(delivery_request(model("MES-CPL-7")))
    await kd.aclose()
    assert isinstance(outcome, Delivered), outcome
    assert standin.calls[0] == "AuthService.LoginByAppSecret"
    assert [d.number for d in standin.documents] == ["MES-CPL-7"]


async def test_a_session_lost_between_two_saves_is_one_relogin_and_no_failed_attempt(
    kingdee: tuple[KingdeeStandIn, str],
) -> None:
    standin, url = kingdee
    kd = connector(url)
    first = await kd.deliver(delivery_request(vector(VECTORS[0])["Model"]))
    standin.expire_sessions()
    second = await kd.deliver(delivery_request(vector(VECTORS[1])["Model"]))
    await kd.aclose()
    assert isinstance(first, Delivered), first
    assert isinstance(second, Delivered), second  # one deliver, one outcome: no attempt failed
    assert standin.logins == 2
    assert standin.calls == [
        "AuthService.ValidateUser",
        "DynamicFormService.Save",
        "DynamicFormService.Save",  # answered "会话信息已丢失，请重新登录"  # noqa: RUF003
        "AuthService.ValidateUser",
        "DynamicFormService.Save",
    ]
    assert standin.received() == [vector(v) for v in VECTORS]


async def test_a_lost_save_answer_then_bill_exists_is_delivered_with_one_bill(
    kingdee: tuple[KingdeeStandIn, str],
) -> None:
    standin, url = kingdee
    kd = connector(url)
    request = delivery_request(vector(VECTORS[0])["Model"])
    standin.lose_next_save_reply(502)  # saved, but the answer never reaches the gateway
    lost = await kd.deliver(request)
    again = await kd.deliver(dataclasses.replace(request, attempt=2))
    await kd.aclose()
    assert isinstance(lost, RetryLater), lost
    assert lost.status_code == 502
    assert isinstance(again, Delivered), again
    assert again.detail == {
        "form_id": "PRD_INSTOCK",
        "number": "MES-CPL-1",
        "already_saved": True,
        "id": 100001,
        "status": "C",
    }
    assert standin.received() == [vector(VECTORS[0])]  # one bill, not two


async def test_another_bills_number_existing_is_not_taken_for_this_one() -> None:
    """Only this delivery's bill number counts as "already saved"."""
    from esb_kingdee.answers import read_answer

    answer = read_answer(
        {
            "Result": {
                "ResponseStatus": {
                    "IsSuccess": False,
                    "ErrorCode": 500,
                    "Errors": [{"FieldName": None, "Message": "单据编号“MES-CPL-9”已存在"}],
                }
            }
        }
    )
    assert answer is not None
    assert not answer.only_bill_exists("MES-CPL-1", "FBillNo")
    assert answer.only_bill_exists("MES-CPL-9", "FBillNo")


async def test_a_field_error_parks_naming_the_field_in_chinese(
    kingdee: tuple[KingdeeStandIn, str],
) -> None:
    standin, url = kingdee
    standin.unknown_materials.add("1.01.001")
    kd = connector(url)
    outcome = await kd.deliver(delivery_request(vector(VECTORS[0])["Model"]))
    await kd.aclose()
    assert isinstance(outcome, Park), outcome
    assert outcome.reason == "Kingdee refused PRD_INSTOCK MES-CPL-1: FMaterialId: 物料编码不存在"
    assert standin.documents == []


async def test_a_wrong_password_parks_with_a_clear_reason_and_is_not_tried_again(
    kingdee: tuple[KingdeeStandIn, str],
) -> None:
    standin, url = kingdee
    kd = connector(url, password="wrong-pa55word")
    first = await kd.deliver(delivery_request(model("MES-CPL-1")))
    second = await kd.deliver(delivery_request(model("MES-CPL-2")))
    await kd.aclose()
    assert isinstance(first, Park), first
    assert first.reason == (
        f"Kingdee refused the login of user 'esb' of data centre '{ACCT}' (password): "
        "用户名或密码错误！; check the user, its password or app secret and acct_id"  # noqa: RUF001
    )
    assert isinstance(second, Park), second
    assert second.reason.startswith(first.reason)
    assert "not tried again for 60s" in second.reason
    assert standin.refused_logins == 1  # the second delivery did not try the password again
    assert "wrong-pa55word" not in first.reason + second.reason


async def test_an_unknown_data_centre_parks(kingdee: tuple[KingdeeStandIn, str]) -> None:
    _, url = kingdee
    kd = connector(url, acct_id="no-such-dc", login_pause=0)
    outcome = await kd.deliver(delivery_request(model("MES-CPL-1")))
    await kd.aclose()
    assert isinstance(outcome, Park), outcome
    assert "数据中心不存在" in outcome.reason


async def test_twenty_concurrent_deliveries_share_one_login(
    kingdee: tuple[KingdeeStandIn, str],
) -> None:
    standin, url = kingdee
    standin.login_delay_s = 0.2  # every delivery arrives while the login is under way
    kd = connector(url)
    requests = [delivery_request(model(f"MES-CPL-{n}")) for n in range(20)]
    outcomes = await asyncio.gather(*(kd.deliver(r) for r in requests))
    standin.expire_sessions()  # and once more: 20 deliveries meet the lost session together
    again = [delivery_request(model(f"MES-CPL-{n}")) for n in range(20, 40)]
    outcomes += await asyncio.gather(*(kd.deliver(r) for r in again))
    await kd.aclose()
    assert all(isinstance(o, Delivered) for o in outcomes), outcomes
    assert standin.logins == 2
    assert standin.calls.count("AuthService.ValidateUser") == 2
    assert len(standin.documents) == 40


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_http_errors_are_retried_later(
    kingdee: tuple[KingdeeStandIn, str], status: int
) -> None:
    standin, url = kingdee
    kd = connector(url)
    standin.fail_next(1, status)
    outcome = await kd.deliver(delivery_request(model("MES-CPL-1")))
    recovered = await kd.deliver(delivery_request(model("MES-CPL-1")))
    await kd.aclose()
    assert isinstance(outcome, RetryLater), outcome
    assert outcome.status_code == status
    assert isinstance(recovered, Delivered), recovered


async def test_a_refused_connection_is_retried_later() -> None:
    kd = connector(f"http://127.0.0.1:{free_port()}/k3cloud")
    outcome = await kd.deliver(delivery_request(model("MES-CPL-1")))
    await kd.aclose()
    assert isinstance(outcome, RetryLater), outcome
    assert "ConnectError" in outcome.reason


async def test_a_url_that_is_no_kingdee_site_parks() -> None:
    other = await TargetServer(default_status=404).start()
    kd = connector(f"{other.url}/not-k3cloud")
    outcome = await kd.deliver(delivery_request(model("MES-CPL-1")))
    await kd.aclose()
    await other.stop()
    assert isinstance(outcome, Park), outcome
    assert outcome.reason.startswith("HTTP 404 from Kingdee AuthService.ValidateUser")
    assert "is url the site's base" in outcome.reason


async def test_separate_submit_and_audit_steps(kingdee: tuple[KingdeeStandIn, str]) -> None:
    standin, url = kingdee
    kd = connector(url, auto_submit_and_audit=False, submit=True, audit=True)
    outcome = await kd.deliver(delivery_request(model("MES-CPL-1")))
    assert isinstance(outcome, Delivered), outcome
    assert standin.calls[1:] == [
        "DynamicFormService.Save",
        "DynamicFormService.Submit",
        "DynamicFormService.Audit",
    ]
    # a lost Save answer: the retry finds the bill created but not submitted, and finishes it
    standin.lose_next_save_reply(503)
    request = delivery_request(model("MES-CPL-2"))
    lost = await kd.deliver(request)
    again = await kd.deliver(dataclasses.replace(request, attempt=2))
    await kd.aclose()
    assert isinstance(lost, RetryLater), lost
    assert isinstance(again, Delivered), again
    assert [d.status for d in standin.documents] == ["C", "C"]
    assert len(standin.documents) == 2


async def test_a_bill_found_submitted_is_only_audited(
    kingdee: tuple[KingdeeStandIn, str],
) -> None:
    standin, url = kingdee
    kd = connector(url, auto_submit_and_audit=False, submit=True, audit=True)
    request = delivery_request(model("MES-CPL-1"))
    standin.lose_next_save_reply(503)
    first = await kd.deliver(request)
    assert isinstance(first, RetryLater), first
    document = standin.document("PRD_INSTOCK", "MES-CPL-1")
    assert document is not None
    assert document.status == "A"
    document.status = "B"  # submitted by hand in Kingdee meanwhile
    calls_before = len(standin.calls)
    replay = await kd.deliver(dataclasses.replace(request, attempt=2))
    await kd.aclose()
    assert isinstance(replay, Delivered), replay
    assert document.status == "C"
    assert standin.calls[calls_before:] == [
        "DynamicFormService.Save",  # 单据编号“MES-CPL-1”已存在
        "DynamicFormService.View",
        "DynamicFormService.Audit",
    ]


async def test_a_model_without_a_bill_number_parks(kingdee: tuple[KingdeeStandIn, str]) -> None:
    standin, url = kingdee
    kd = connector(url)
    no_number = {k: v for k, v in model("x").items() if k != "FBillNo"}
    outcomes = [
        await kd.deliver(delivery_request(no_number)),
        await kd.deliver(delivery_request([model("MES-CPL-1")])),
    ]
    await kd.aclose()
    assert all(isinstance(o, Park) for o in outcomes), outcomes
    assert "FBillNo" in outcomes[0].reason  # type: ignore[union-attr]
    assert standin.calls == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"app_id": APP_ID, "app_secret": APP_SECRET}, "not both"),
        ({"password": None}, "give password"),
        ({"password": None, "app_id": APP_ID}, "go together"),
        ({"submit": True}, "auto_submit_and_audit false"),
        ({"auto_submit_and_audit": False, "audit": True}, "audit needs submit"),
    ],
)
def test_options_that_cannot_work_are_refused(options: dict[str, Any], message: str) -> None:
    given = {
        "url": "http://k3/k3cloud",
        "acct_id": ACCT,
        "username": USER,
        "password": PASSWORD,
        "form_id": "PRD_INSTOCK",
        **options,
    }
    with pytest.raises(ValueError, match=message):
        KingdeeConfig.model_validate(given)
