"""Keys and bearer tokens never appear in the logs, whatever the traffic does."""

from __future__ import annotations

from pathlib import Path

import pytest

from esb.logs import configure_logging
from tests.support.gateway import ADMIN_KEY, ERP_KEY, MES_KEY, write_config
from tests.support.target import TargetServer

TARGET_TOKEN = "target-token-5f2a9c"


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_no_secret_reaches_the_log(
    make_gateway, target: TargetServer, tmp_path: Path, capsys
) -> None:
    configure_logging("json", "DEBUG")
    target.script.extend([503, 400])
    interfaces = f"""
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    retry: {{schedule: [0.05s], jitter: 0}}
    targets:
      mes:
        connector:
          kind: rest
          url: "{target.url}/api"
          auth: {{type: bearer, token: "{TARGET_TOKEN}"}}
"""
    gut = await make_gateway(write_config(tmp_path / "cfg", interfaces))
    accepted = await gut.send("sales_order", {"OrderNo": "SO-S1"})
    await gut.send("sales_order", {"OrderNo": "SO-S2"}, key="leaked-guess-123")
    await gut.send("sales_order", {"OrderNo": "SO-S3"}, key=MES_KEY)
    await gut.admin("GET", "/v1/report")
    await gut.wait_status(accepted.json()["id"], "parked")
    await gut.stop()

    assert target.received[0].headers["authorization"] == f"Bearer {TARGET_TOKEN}"
    logged = capsys.readouterr().err
    assert '"event":"attempt"' in logged  # the log was really captured
    for secret in (ERP_KEY, MES_KEY, ADMIN_KEY, TARGET_TOKEN, "leaked-guess-123"):
        assert secret not in logged, secret
