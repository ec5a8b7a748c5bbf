"""alerts.yaml: the older webhook-only shape still loads; chat robots are named entries,
each switched on by its variable in the demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.errors import ConfigError
from esb.settings import demo_config_dir
from tests.support.gateway import rest_interface, write_config


def demo_alerts(env: dict[str, str]):  # type: ignore[no-untyped-def]
    config = load_config(demo_config_dir(), load_registry(), {"ESB_DATA_DIR": "var", **env})
    assert config.alerts is not None
    return config.alerts


def test_the_demo_sends_nothing_until_a_robot_variable_is_set() -> None:
    alerts = demo_alerts({})
    assert alerts.channels == {}
    assert alerts.webhook is None


def test_the_demo_switches_each_robot_on_by_its_variable() -> None:
    wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1"
    alerts = demo_alerts({"ALERT_WECOM_URL": wecom})
    assert list(alerts.channels) == ["team-wecom"]
    assert alerts.channels["team-wecom"].url == wecom
    alerts = demo_alerts(
        {
            "ALERT_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "ALERT_DINGTALK_SECRET": "SECabc",
            "ALERT_LANGUAGE": "en",
        }
    )
    ding = alerts.channels["team-dingtalk"]
    assert ding.kind == "dingtalk"
    assert ding.secret is not None
    assert ding.secret.get_secret_value() == "SECabc"
    assert ding.url_shown() == "https://oapi.dingtalk.com/robot/send"
    assert alerts.language == "en"


def test_the_older_webhook_only_file_loads_unchanged(tmp_path: Path) -> None:
    folder = write_config(tmp_path, rest_interface("http://mes"))
    (folder / "alerts.yaml").write_text("alerts:\n  webhook: http://hooks/esb\n  every: 1h\n")
    alerts = load_config(folder, load_registry(), {}).alerts
    assert alerts is not None
    assert alerts.webhook == "http://hooks/esb"
    assert alerts.channels == {}
    assert alerts.language == "zh"


def test_a_wrong_channel_is_named_precisely(tmp_path: Path) -> None:
    folder = write_config(tmp_path, rest_interface("http://mes"))
    (folder / "alerts.yaml").write_text(
        "alerts:\n  channels:\n    team:\n      kind: feishu\n      url: http://x\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(folder, load_registry(), {})
    assert "alerts.channels.team.kind" in str(caught.value)
