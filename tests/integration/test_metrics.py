"""Prometheus metrics and structured logs that name the message, interface and target."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from esb.logs import configure_logging
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_attempts_and_backlog(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.script.extend([503])
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    message_id = (await gut.send("sales_order", {"OrderNo": "SO-M1"})).json()["id"]
    await gut.wait_status(message_id, "delivered")
    await target.stop()
    await gut.send("sales_order", {"OrderNo": "SO-M2"})
    await gut.gateway.metrics.refresh(gut.gateway.engine)

    got = samples((await gut.client.get(f"{gut.url}/metrics")).text)
    pair = (("interface", "sales-order"), ("target", "mes"))
    assert got[("esb_messages_accepted_total", (("interface", "sales-order"),))] == 2
    assert got[("esb_attempts_total", (*pair[:1], ("outcome", "delivered"), pair[1]))] == 1
    assert got[("esb_attempts_total", (*pair[:1], ("outcome", "retry"), pair[1]))] >= 1
    assert got[("esb_end_to_end_seconds_count", pair)] == 1
    assert got[("esb_attempt_duration_seconds_count", pair)] >= 2
    assert got[("esb_backlog", pair)] == 1
    assert ("esb_relay_lag_seconds", ()) in got


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_log_lines_of_a_delivery_carry_its_ids(
    make_gateway, target: TargetServer, tmp_path: Path, capsys
) -> None:
    configure_logging("json", "INFO")
    target.script.extend([503])
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    message_id = (await gut.send("sales_order", {"OrderNo": "SO-L1"})).json()["id"]
    await gut.wait_status(message_id, "delivered")
    lines = [line for line in capsys.readouterr().err.splitlines() if '"event":"attempt"' in line]
    assert lines
    for line in lines:
        assert f'"message_id":"{message_id}"' in line
        assert '"interface":"sales-order"' in line
        assert '"target":"mes"' in line
        assert '"delivery_id":"' in line
