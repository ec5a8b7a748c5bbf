"""Reading K/3 Cloud answers: a lost session told by its message, "already exists" only for
this bill, anything else an error listed with Kingdee's words intact."""

from __future__ import annotations

from typing import Any

import pytest

from esb_kingdee.answers import read_answer


def status(ok: bool, *errors: tuple[str | None, str], code: int = 500) -> dict[str, Any]:
    listed = [{"FieldName": f, "Message": m, "DIndex": 0} for f, m in errors]
    return {"Result": {"ResponseStatus": {"IsSuccess": ok, "ErrorCode": code, "Errors": listed}}}


@pytest.mark.parametrize(
    "message",
    [
        "会话信息已丢失，请重新登录",  # noqa: RUF001
        "会话信息已丢失,请重新登录",
        "会话已失效，请重新登录",  # noqa: RUF001
        "当前会话已过期",
        "Session information has been lost, please log in again",
        "The session is expired.",
    ],
)
def test_a_lost_session_is_told_by_its_message(message: str) -> None:
    answer = read_answer(status(False, (None, message)))
    assert answer is not None
    assert answer.session_lost


@pytest.mark.parametrize(
    "message", ["物料编码不存在", "字段“收货单位”是必填项", "会计期间未打开", "单据编号“X”已存在"]
)
def test_business_errors_are_no_lost_session(message: str) -> None:
    answer = read_answer(status(False, ("FMaterialId", message)))
    assert answer is not None
    assert not answer.session_lost
    assert answer.reason() == f"FMaterialId: {message}"


def test_already_exists_counts_only_for_this_bill_and_only_alone() -> None:
    ours = read_answer(status(False, ("FBillNo", "单据编号“MES-CPL-1”已存在")))
    unnamed = read_answer(status(False, (None, "单据编号“MES-CPL-1”已存在")))
    other = read_answer(status(False, (None, "单据编号“MES-CPL-2”已存在")))
    other_field = read_answer(status(False, ("FLot", "批号“MES-CPL-1”已存在")))
    mixed = read_answer(
        status(False, ("FBillNo", "单据编号“MES-CPL-1”已存在"), ("FMaterialId", "物料编码不存在"))
    )
    assert ours is not None
    assert ours.only_bill_exists("MES-CPL-1", "FBillNo")
    assert unnamed is not None
    assert unnamed.only_bill_exists("MES-CPL-1", "FBillNo")
    assert other is not None
    assert not other.only_bill_exists("MES-CPL-1", "FBillNo")
    assert other_field is not None
    assert not other_field.only_bill_exists("MES-CPL-1", "FBillNo")
    assert mixed is not None
    assert not mixed.only_bill_exists("MES-CPL-1", "FBillNo")
    assert mixed.reason() == "FBillNo: 单据编号“MES-CPL-1”已存在; FMaterialId: 物料编码不存在"


def test_success_and_what_is_no_answer() -> None:
    answer = read_answer(
        {
            "Result": {
                "ResponseStatus": {
                    "IsSuccess": True,
                    "Errors": [],
                    "SuccessEntitys": [{"Id": 100001, "Number": "MES-CPL-1", "DIndex": 0}],
                },
                "Id": 100001,
                "Number": "MES-CPL-1",
            }
        }
    )
    assert answer is not None
    assert answer.ok
    assert answer.entities == ({"Id": 100001, "Number": "MES-CPL-1", "DIndex": 0},)
    assert read_answer("<html>login</html>") is None
    assert read_answer({"status": 200}) is None
