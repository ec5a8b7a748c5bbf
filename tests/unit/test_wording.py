"""Pydantic's errors in plain words; problems ordered by file and line for a person."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from esb.commands.support import ordered
from esb.configfile.wording import allowed_keys, closest, plain_message
from esb.errors import SettingsError
from esb.settings import load_settings


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rest(Strict):
    kind: Literal["rest"]
    url: str = Field(pattern=r"^https?://")
    retries: int = Field(default=3, ge=0, le=10)


class Soap(Strict):
    kind: Literal["soap"]
    wsdl: str


class Target(Strict):
    connector: Annotated[Rest | Soap, Field(discriminator="kind")]
    tags: list[str] = Field(default_factory=list, max_length=1)
    enabled: bool = True


class File(Strict):
    targets: dict[str, Target] = Field(min_length=1)


def messages(data: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        File.model_validate(data)
    return {
        ".".join(str(p) for p in e["loc"]): plain_message(e, File)
        for e in caught.value.errors(include_url=False)
    }


def test_each_kind_of_error_reads_as_what_to_write() -> None:
    found = messages(
        {
            "targets": {
                "a": {"connector": {"kind": "rets"}},
                "b": {
                    "connector": {"kind": "rest", "url": "ftp://x", "retries": "many", "urll": 1}
                },
                "c": {"connector": {"kind": "soap"}, "tags": ["x", "y"], "enabled": "maybe"},
                "d": {"connector": {"url": "http://x"}, "colour": "red"},
                "e": {"connector": {"kind": "rest", "url": "http://x", "retries": 11}},
            }
        }
    )
    assert found == {
        "targets.a.connector": "unknown kind 'rets': did you mean 'rest'? (known: rest, soap)",
        "targets.b.connector.rest.url": "must start with http:// or https://",
        "targets.b.connector.rest.retries": "must be a whole number",
        "targets.b.connector.rest.urll": "unknown key 'urll': did you mean 'url'?",
        "targets.c.connector.soap.wsdl": "missing (required)",
        "targets.c.tags": "may have only one entry",
        "targets.c.enabled": "must be true or false",
        "targets.d.connector": "kind is missing",
        "targets.d.colour": "unknown key 'colour' (allowed here: connector, enabled, tags)",
        "targets.e.connector.rest.retries": "must be at most 10",
    }
    assert messages({"targets": {}}) == {"targets": "needs at least one entry"}


def test_allowed_keys_follow_the_path_through_unions_and_dicts() -> None:
    assert allowed_keys(File, ("targets", "x", "connector", "rest")) == ["kind", "url", "retries"]
    assert allowed_keys(File, ("targets", "x", "connector", "soap")) == ["kind", "wsdl"]
    assert allowed_keys(File, ("targets", "x", "connector", "ftp")) == []
    assert allowed_keys(File, ("nope",)) == []
    assert closest("kingdee", ["rest", "soap", "file"]) is None


def test_settings_problems_name_the_variable_and_hide_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESB_PREFETCH", "0")
    monkeypatch.setenv("ESB_BROKER_URL", "http://guest:topsecret@q/")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert sorted(caught.value.problems) == [
        "ESB_BROKER_URL: is not a RabbitMQ URL (amqp://... or amqps://...); "
        "e.g. amqp://user:password@host:5672/, or a cluster's nodes comma-separated "
        "(amqp://u:p@node1:5672/,amqp://u:p@node2:5672/); unset: embedded (no broker)",
        "ESB_PREFETCH='0': must be at least 1; fix it, or unset it for the default (64)",
    ]


def test_problems_are_ordered_by_file_and_line_relative_to_here(tmp_path: Path) -> None:
    here = tmp_path / "cfg"
    problems = [
        f"{here}/mappings/m.yaml:3: fields.a: x",
        f"{here}/interfaces.yaml:12: interfaces.b: y",
        f"{here}/interfaces.yaml:2: interfaces.a: z",
        "/elsewhere/systems.yaml:1: systems: w",
        f"{here}: no interfaces.yaml",
    ]
    assert ordered(problems, here) == [
        f"{here}: no interfaces.yaml",
        "/elsewhere/systems.yaml:1: systems: w",
        "interfaces.yaml:2: interfaces.a: z",
        "interfaces.yaml:12: interfaces.b: y",
        "mappings/m.yaml:3: fields.a: x",
    ]


def test_a_cluster_is_several_broker_urls_and_a_wrong_one_is_named_by_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESB_BROKER_URL", " amqp://a:5672/ , amqps://b:5671/,")
    assert load_settings().broker_url == "amqp://a:5672/,amqps://b:5671/"
    monkeypatch.setenv("ESB_BROKER_URL", "amqp://a:5672/,http://guest:topsecret@b/")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    [problem] = caught.value.problems
    assert problem.startswith("ESB_BROKER_URL: URL number 2 is not a RabbitMQ URL")
    assert "topsecret" not in problem
