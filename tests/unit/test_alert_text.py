"""Chat alert wording: Chinese by default, English by setting, digests that fit a robot."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from esb.alert_text import MAX_BYTES, digest, first_part, fold, single

CJK = re.compile(r"[\u4e00-\u9fff]")


def failing(interface: str, target: str = "mes", error: str = "HTTP 503: down") -> dict[str, Any]:
    return {
        "kind": "failing",
        "interface": interface,
        "target": target,
        "status": "failing",
        "success_rate": 0.0,
        "pending": 20,
        "parked": 2,
        "blocked": 0,
        "last_error": {"at": "2026-12-05T01:00:00+00:00", "error": error},
        "at": "2026-12-05T01:00:00+00:00",
        "dashboard": f"http://gw/dashboard#{interface}/{target}",
    }


def test_one_alert_names_everything_in_chinese_with_the_factory_time() -> None:
    title, text = single(failing("sales-order"), "zh", "Asia/Shanghai")
    assert title == "告警: sales-order → mes 投递失败"
    for part in ("接口**: sales-order", "目标**: mes", "失败 (failing)", "等待投递**: 20 条"):
        assert part in text, (part, text)
    assert "最近错误**: HTTP 503: down" in text
    assert "2026-12-05 09:00:00 (Asia/Shanghai)" in text  # UTC 01:00 in the factory's zone
    assert "[打开看板](http://gw/dashboard#sales-order/mes)" in text


def test_english_by_setting_has_no_chinese() -> None:
    title, text = single(failing("sales-order"), "en", "Asia/Shanghai")
    assert title == "Alert: sales-order → mes failing"
    assert "Waiting deliveries**: 20 (parked 2)" in text
    assert not CJK.search(title + text)


def test_a_recovery_and_a_repeated_alert() -> None:
    body = failing("sales-order") | {"kind": "recovered", "status": "ok", "last_error": None}
    title, text = single(body, "zh", "Asia/Shanghai", folded=3)
    assert title.startswith("恢复: sales-order → mes 已恢复")
    assert "最近错误**: 无" in text
    assert "合并了 3 条告警" in text


def test_a_digest_keeps_one_line_per_pair_with_its_latest_state() -> None:
    queued = [(1, failing("a")), (2, failing("b")), (3, failing("a") | {"kind": "recovered"})]
    items = fold(queued, "zh")
    assert [item.ids for item in items] == [[1, 3], [2]]
    assert "✅ **a → mes**: 已恢复" in items[0].line
    _, text = digest(items, "zh", "Asia/Shanghai", "http://gw/dashboard", datetime.now(UTC))
    assert "合并了 3 条告警" in text


def test_a_long_burst_is_cut_into_parts_that_fit_and_name_every_pair() -> None:
    long_error = "x" * 500
    queued = [(n, failing(f"line-{n:03d}", error=long_error)) for n in range(200)]
    items, named = fold(queued, "zh"), set()
    while items:
        count = first_part(items)
        part, items = items[:count], items[count:]
        _, text = digest(part, "zh", "Asia/Shanghai", "http://gw/dashboard", datetime.now(UTC))
        assert len(text.encode()) <= 4096
        named |= set(re.findall(r"line-\d{3}", text))
    assert named == {f"line-{n:03d}" for n in range(200)}
    assert MAX_BYTES < 4096
