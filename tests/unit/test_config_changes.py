"""What the audit shows of a configuration change: only what changed, secrets by mask."""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import SecretStr

from esb.config.changes import changes
from esb.config.folder import read_folder
from esb.config.summary import Hidden, shown, tree
from esb.config.types import BasicAuth


def test_a_url_shows_without_its_password_and_query_and_compares_whole() -> None:
    old = tree("mysql://mes:pw-1@db.local:3306/mes?ssl=true")
    new = tree("mysql://mes:pw-2@db.local:3306/mes?ssl=true")
    assert shown(old) == shown(new) == "mysql://mes:***@db.local:3306/mes?***"
    assert changes({"url": old}, {"url": new}) == (
        {"url": "mysql://mes:***@db.local:3306/mes?***"},
        {"url": "mysql://mes:***@db.local:3306/mes?***"},
    )
    robot = tree("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123")
    assert shown(robot) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***"
    assert tree("http://mes.local/api/work-orders") == "http://mes.local/api/work-orders"
    assert shown(tree("http://[::1]:8080/x?token=t")) == "http://[::1]:8080/x?***"


def test_a_secret_is_compared_by_value_and_never_shown() -> None:
    old = tree({"auth": BasicAuth(type="basic", username="gw", password=SecretStr("s3cret-a"))})
    same = tree({"auth": BasicAuth(type="basic", username="gw", password=SecretStr("s3cret-a"))})
    new = tree({"auth": BasicAuth(type="basic", username="gw", password=SecretStr("s3cret-b"))})
    assert changes(old, same) == ({}, {})
    before, after = changes(old, new)
    assert before == after == {"auth.password": "***"}
    assert "s3cret" not in repr(old) + repr(new)  # not even in a traceback's locals
    assert isinstance(old["auth"]["password"], Hidden)


def test_added_removed_and_changed_paths() -> None:
    old = {"interfaces": {"a": {"targets": {"mes": {"url": "u1"}}, "list": [1, 2]}}, "x": 1}
    new = {"interfaces": {"a": {"targets": {"mes": {"url": "u2"}}, "list": [1, 3]}, "b": {"k": 1}}}
    before, after = changes(old, new)
    assert before == {"interfaces.a.targets.mes.url": "u1", "interfaces.a.list[1]": 2, "x": 1}
    assert after == {
        "interfaces.a.targets.mes.url": "u2",
        "interfaces.a.list[1]": 3,
        "interfaces.b": {"k": 1},
    }
    assert changes({"l": [1]}, {"l": [1, 2]}) == ({"l": [1]}, {"l": [1, 2]})


def test_the_folder_digest_ignores_hidden_and_backup_files(tmp_path: Path) -> None:
    (tmp_path / "systems.yaml").write_text("systems: {}\n")
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "m.yaml").write_text("fields:\n  '01': ${SECRET_VAR}\n")
    (tmp_path / "seed.csv").write_text("a,b\n")
    first = read_folder(tmp_path)
    (tmp_path / ".interfaces.yaml.swp").write_text("x")
    (tmp_path / "systems.yaml~").write_text("x")
    assert read_folder(tmp_path).digest == first.digest
    assert first.others["mappings/m.yaml"] == {"fields": {"01": "${SECRET_VAR}"}}  # as written
    assert first.others["seed.csv"].startswith("sha256:")
    assert "systems.yaml" not in first.others  # its model shows it
    (tmp_path / "seed.csv").write_text("a,b\n1,2\n")
    assert read_folder(tmp_path).digest != first.digest
    assert orjson.dumps(first.others)  # plain data
