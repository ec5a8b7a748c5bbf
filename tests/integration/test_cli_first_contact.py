"""What a new user meets first, through the real ``esb`` command (issue 9, items 12 and 13).

Every mistake a person can make at the start (a wrong ESB_* variable, a wrong option,
the wrong folder, production without an admin key, a database never upgraded, a
broken configuration) ends in a few lines naming what to change, a non-zero exit code
and no traceback; nothing is created on the way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from esb.settings import demo_config_dir
from tests.support.cli import esb, flat, refused_in_words, scratch_database
from tests.support.gateway import ADMIN_KEY, rest_interface, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port


@pytest.mark.parametrize(
    ("env", "args", "named", "secret"),
    [
        ({"ESB_ADMIN_KEY": "changeme"}, ["report"], "ESB_ADMIN_KEY: is a placeholder", "changeme"),
        ({"ESB_ADMIN_KEY": "short-1"}, ["serve"], "ESB_ADMIN_KEY: is shorter than 12", "short-1"),
        ({"ESB_PORT": "abc"}, ["serve"], "ESB_PORT='abc': must be a whole number", None),
        ({"ESB_PORT": "99999"}, ["serve"], "ESB_PORT='99999': must be at most 65535", None),
        ({"ESB_LOG_LEVEL": "loud"}, ["check"], "ESB_LOG_LEVEL='loud': must be one of", None),
        ({"ESB_QUEUE_TYPE": "fast"}, ["worker"], "ESB_QUEUE_TYPE='fast': must be", None),
        (
            {"ESB_DATABASE_URL": "mysql://gw:hunter2pw@db/esb"},
            ["report"],
            "ESB_DATABASE_URL: is not a PostgreSQL",
            "hunter2pw",
        ),
        ({"ESB_BROKER_URL": "redis://q"}, ["relay"], "ESB_BROKER_URL: is not a RabbitMQ", None),
    ],
)
def test_a_wrong_setting_is_named_with_what_to_do(
    env: dict[str, str], args: list[str], named: str, secret: str | None, tmp_path: Path
) -> None:
    result = esb(*args, env=env, cwd=tmp_path, timeout=60)
    stderr = refused_in_words(result, 2)
    assert named in stderr
    assert "; " in stderr.splitlines()[1]  # followed by what to do
    if secret is not None:
        assert secret not in stderr
    assert list(tmp_path.iterdir()) == []


WRONG_OPTIONS = {
    "en": ["at most 400d", "'not-an-id' is not a delivery id",
           "name the deliveries to replay, or use --all-parked"],
    "zh": ["不超过 400d", "'not-an-id' 不是投递 id", "请列出要重放的投递，或使用 --all-parked"],  # noqa: RUF001
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_wrong_option_is_named(lang: str, tmp_path: Path) -> None:
    too_long, not_an_id, none_named = WRONG_OPTIONS[lang]
    for args, named in (
        (["report", "--window", "1mo"], "'1mo' is not a duration"),
        (["report", "--window", "999999999d"], too_long),
        (["replay", "not-an-id", "--reason", "x"], not_an_id),
    ):
        stderr = flat(refused_in_words(esb(*args, cwd=tmp_path, lang=lang), 2))
        assert named in stderr
        assert "Invalid value for" in stderr
    stderr = refused_in_words(esb("replay", "--reason", "x", cwd=tmp_path, lang=lang), 2)
    assert none_named in stderr
    assert list(tmp_path.iterdir()) == []


READ_COMMANDS = [
    ["report"],
    ["replay", "--all-parked", "--reason", "target fixed"],
    ["xref", "export", "customer"],
    ["mapping", "diff", "sales-order-to-mes"],
    ["reconcile"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_read_command_in_another_folder_creates_nothing_and_says_where_it_looked(
    args: list[str], tmp_path: Path
) -> None:
    stderr = refused_in_words(esb(*args, cwd=tmp_path), 1)
    assert f"no gateway database at {tmp_path / 'var' / 'esb.db'}" in stderr
    assert "ESB_DATA_DIR is 'var'" in stderr
    assert "ESB_DATABASE_URL" in stderr
    assert list(tmp_path.iterdir()) == []  # no var/, no empty esb.db


def test_a_read_command_finds_the_gateway_through_esb_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "gateway-data"
    assert esb("db", "upgrade", env={"ESB_DATA_DIR": str(data)}).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = esb("report", env={"ESB_DATA_DIR": str(data)}, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "sales-order/mes" in result.stdout
    assert list(elsewhere.iterdir()) == []


def test_a_database_without_tables_is_named_not_unavailable(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "esb.db").write_bytes(b"")  # what an old read command left behind
    stderr = refused_in_words(esb("report", cwd=tmp_path), 1)
    assert "has no gateway tables: create them with `esb db upgrade`" in stderr
    with scratch_database() as url:
        stderr = refused_in_words(esb("xref", "export", "customer",
                                      env={"ESB_DATABASE_URL": url}), 1)  # fmt: skip
        assert f"the database at {url.replace('postgresql', 'postgresql+asyncpg')}" in stderr
        assert "has no gateway tables" in stderr


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://gw:hunter2pw@127.0.0.1:{free_port()}/esb"
    for args in (["report"], ["db", "upgrade"]):
        stderr = refused_in_words(esb(*args, env={"ESB_DATABASE_URL": url}, cwd=tmp_path), 1)
        assert "cannot reach the database at postgresql+asyncpg://gw:***@127.0.0.1:" in stderr
        assert "hunter2pw" not in stderr
    stderr = refused_in_words(esb("db", "upgrade", "nope", cwd=tmp_path), 2)
    assert "Can't locate revision identified by 'nope'" in stderr


def test_production_serve_without_admin_key_refuses_to_start(
    pg_url: str, rabbit_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {"ESB_DATABASE_URL": pg_url, "ESB_BROKER_URL": rabbit_url, "ESB_PORT": str(port)}
    stderr = refused_in_words(esb("serve", env=env, cwd=tmp_path, timeout=60), 2)
    assert "ESB_ADMIN_KEY is not set" in stderr
    assert "every operator endpoint and the dashboard would answer 401" in stderr
    assert list(tmp_path.iterdir()) == []


def test_production_serve_before_db_upgrade_says_run_it(rabbit_url: str, tmp_path: Path) -> None:
    with scratch_database() as url:
        env = {"ESB_DATABASE_URL": url, "ESB_BROKER_URL": rabbit_url,
               "ESB_ADMIN_KEY": ADMIN_KEY, "ESB_PORT": str(free_port())}  # fmt: skip
        stderr = refused_in_words(esb("serve", env=env, cwd=tmp_path, timeout=60), 1)
        assert "has no gateway tables: create them with `esb db upgrade`" in stderr
        assert esb("db", "upgrade", env=env).returncode == 0


async def _report(url: str, key: str) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{url}/v1/report", headers={"Authorization": f"Bearer {key}"})
        return response.status_code


async def test_embedded_serve_says_where_the_admin_key_is_and_never_prints_it(
    tmp_path: Path,
) -> None:
    gateway = GatewayProcess({"ESB_DATA_DIR": str(tmp_path / "var")}, free_port(),
                             tmp_path / "gw.log")  # fmt: skip
    gateway.start()
    try:
        await gateway.wait_ready()
        key_file = tmp_path / "var" / "admin.key"
        key = key_file.read_text().strip()
        log = gateway.log_path.read_text()
        first = log.splitlines()[0]
        assert "need the admin key generated in this data folder" in first
        assert f'"key_file":"{key_file}"' in first
        assert f'"dashboard":"{gateway.url}/dashboard"' in first
        assert f"Bearer $(cat {key_file})" in first
        assert key not in log
        assert await _report(gateway.url, key) == 200  # the key it points at works
    finally:
        gateway.stop()


async def test_production_serve_names_the_key_source_never_the_key(
    pg_url: str, rabbit_url: str, tmp_path: Path
) -> None:
    env = {"ESB_DATABASE_URL": pg_url, "ESB_BROKER_URL": rabbit_url, "ESB_ADMIN_KEY": ADMIN_KEY,
           "ESB_CONFIG": str(write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9"))),
           "ESB_BROKER_PREFIX": f"esbtest-cli-{free_port()}"}  # fmt: skip
    gateway = GatewayProcess(env, free_port(), tmp_path / "gw.log")
    gateway.start()
    try:
        await gateway.wait_ready()
        log = gateway.log_path.read_text()
        assert "operator endpoints and the dashboard use ESB_ADMIN_KEY" in log
        assert ADMIN_KEY not in log
        assert await _report(gateway.url, ADMIN_KEY) == 200
    finally:
        gateway.stop()


BROKEN_INTERFACES = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    retires: 3
    targets:
      mes:
        mapping: sales-order-to-mes
        connector: {kind: rets, url: "${MES_URL_UNSET}/api"}
      wms:
        mapping: sales-order-to-wms
        connector: {kind: sap-rfc}
"""


CHECK_SAYS = {
    "en": ("5 problems in 2 file(s): the gateway does not start",
           "ok: 4 systems, 2 interfaces, 4 targets, 6 mappings in "),
    "zh": ("5 个问题，涉及 2 个文件：网关不会以此配置启动",  # noqa: RUF001
           "正常：4 个系统，2 个接口，4 个目标，6 个映射，位于 "),  # noqa: RUF001
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_esb_check_lists_every_problem_sorted_by_file_and_line(lang: str, tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    shutil.copytree(demo_config_dir(), folder)
    (folder / "interfaces.yaml").write_text(BROKEN_INTERFACES)
    mapping = folder / "mappings" / "sales-order-to-mes.yaml"
    mapping.write_text(mapping.read_text() + "\n  broken: [\n")
    result = esb("check", env={"ESB_CONFIG": str(folder)}, cwd=folder, lang=lang)
    stderr = refused_in_words(result, 1)
    lines = stderr.strip().splitlines()
    assert [line.split(": ")[0] for line in lines[:-1]] == [
        "interfaces.yaml:6",
        "interfaces.yaml:10",
        "interfaces.yaml:10",
        "interfaces.yaml:13",
        f"mappings/sales-order-to-mes.yaml:{len(mapping.read_text().splitlines()) + 1}",
    ]  # the YAML error is found at the end of the file
    assert "unknown key 'retires': did you mean 'retry'?" in lines[0]
    assert "unknown connector kind 'rets': did you mean 'rest'?" in stderr
    assert "MES_URL_UNSET is not set" in stderr
    assert "unknown mapping" not in stderr  # the broken one is reported in its own file
    problems, fine = CHECK_SAYS[lang]
    assert lines[-1].startswith(problems)
    ok = esb("check", env={"ESB_CONFIG": str(demo_config_dir())}, cwd=tmp_path, lang=lang)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(fine)


def test_worker_before_db_upgrade_says_run_it(rabbit_url: str) -> None:
    with scratch_database() as url:
        env = {"ESB_DATABASE_URL": url, "ESB_BROKER_URL": rabbit_url}
        stderr = refused_in_words(esb("worker", env=env, timeout=60), 1)
        assert "run `esb db upgrade`" in stderr
