"""Reading K/3 Cloud's answers: the WebAPI says HTTP 200 for nearly everything, the body tells.

An operation's outcome is ``Result.ResponseStatus``: ``IsSuccess``, ``ErrorCode``,
``Errors[{FieldName, Message, DIndex}]``, ``SuccessEntitys[{Id, Number}]``. Business errors
and a lost session both carry ``ErrorCode`` 500, so a lost session is told by its message.
``ExecuteBillQuery`` answers its rows as a list of lists, or an operation result (an error)
wrapped as ``[[{"Result": ...}]]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "FieldError", "Rows", "read_answer", "read_rows"]

# "会话信息已丢失，请重新登录" (2052), its variants and English (1033) wordings.  # noqa: RUF003
_LOST_ZH = re.compile(r"会话.{0,6}(丢失|失效|过期|超时)|请重新登录|重新登陆")
_LOST_EN = re.compile(
    r"session.{0,40}(lost|expired|invalid|timed? ?out)|(log ?in|sign ?in) again", re.IGNORECASE
)
_EXISTS = re.compile(r"已存在|已经存在|already exists?|is existed|duplicate", re.IGNORECASE)


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    index: int | None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass(frozen=True)
class Answer:
    """One operation's ``ResponseStatus`` (and ``Result`` of a ``View``)."""

    ok: bool
    errors: tuple[FieldError, ...]
    entities: tuple[dict[str, Any], ...]
    result: Any

    @property
    def session_lost(self) -> bool:
        return not self.ok and any(
            _LOST_ZH.search(e.message) or _LOST_EN.search(e.message) for e in self.errors
        )

    def only_bill_exists(self, bill_no: str, bill_field: str) -> bool:
        """Every error says ``bill_no`` already exists: an earlier Save of it went through."""
        return bool(self.errors) and all(
            _EXISTS.search(e.message)
            and (
                (e.field or "").lower() == bill_field.lower()
                or (bill_no in e.message and not e.field)
            )
            for e in self.errors
        )

    def reason(self) -> str:
        shown = "; ".join(str(e) for e in self.errors[:10]) or "IsSuccess false, no error given"
        return shown + (f" (and {len(self.errors) - 10} more)" if len(self.errors) > 10 else "")


def _errors(status: dict[str, Any]) -> tuple[FieldError, ...]:
    found = []
    for item in status.get("Errors") or []:
        if isinstance(item, dict):
            index = item.get("DIndex")
            found.append(
                FieldError(
                    str(item["FieldName"]) if item.get("FieldName") else None,
                    str(item.get("Message") or ""),
                    index if isinstance(index, int) else None,
                )
            )
    return tuple(found)


def read_answer(body: Any) -> Answer | None:
    """The answer of a form operation, or None when the body is not one (wrong URL?)."""
    if not isinstance(body, dict):
        return None
    result = body.get("Result")
    holder = result if isinstance(result, dict) else body
    status = holder.get("ResponseStatus")
    if not isinstance(status, dict):
        if isinstance(result, dict) and "Result" in result:  # View answers may omit the status
            return Answer(True, (), (), result["Result"])
        return None
    entities = tuple(e for e in status.get("SuccessEntitys") or [] if isinstance(e, dict))
    ok = status.get("IsSuccess") is True
    return Answer(ok, _errors(status), entities, holder.get("Result"))


@dataclass(frozen=True)
class Rows:
    """What ``ExecuteBillQuery`` found: one list of values a row, in FieldKeys order."""

    rows: list[list[Any]]


def read_rows(body: Any) -> Answer | Rows | None:
    """A query's rows, or the operation result it answered instead (bare, as for a lost
    session, or wrapped ``[[{"Result": ...}]]``); None when the body is neither."""
    if isinstance(body, dict):
        return read_answer(body)
    if not isinstance(body, list) or not all(isinstance(row, list) for row in body):
        return None
    if len(body) == 1 and len(body[0]) == 1 and isinstance(body[0][0], dict):
        return read_answer(body[0][0])
    return Rows(body)
