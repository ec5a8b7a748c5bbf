"""The Kubernetes manifests in deploy/kubernetes parse, and say what the gateway needs:
every ESB_* variable they set is a real setting, every command a real `esb` command
with real options, the probes hit /healthz and /readyz on a port the process serves,
and the Secrets they read are the ones the operators' resources create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from esb.cli import app
from esb.settings import Settings

FOLDER = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def documents() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> document, for every manifest in the folder."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(FOLDER.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert isinstance(document, dict), f"{path.name}: not a mapping"
            for field in ("apiVersion", "kind"):
                assert field in document, f"{path.name}: no {field}"
            if document["kind"] != "Kustomization":
                assert document.get("metadata", {}).get("name"), f"{path.name}: no name"
            name = document.get("metadata", {}).get("name", path.name)
            found[(document["kind"], name)] = document
    return found


MANIFESTS = documents()
DEPLOYMENTS = {name: doc for (kind, name), doc in MANIFESTS.items() if kind == "Deployment"}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def test_the_kustomization_lists_files_that_exist() -> None:
    kustomization = MANIFESTS[("Kustomization", "kustomization.yaml")]
    for resource in kustomization["resources"]:
        assert (FOLDER / resource).is_file(), resource
    listed = set(kustomization["resources"]) | {"kustomization.yaml", "db-upgrade.yaml"}
    assert {p.name for p in FOLDER.glob("*.yaml")} == listed  # nothing forgotten


def test_rabbitmq_and_postgresql_are_clusters_of_three() -> None:
    rabbit = MANIFESTS[("RabbitmqCluster", "esb-rabbitmq")]
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert rabbit["spec"]["replicas"] == 3
    postgres = MANIFESTS[("Cluster", "esb-pg")]
    assert postgres["apiVersion"] == "postgresql.cnpg.io/v1"
    assert postgres["spec"]["instances"] == 3
    assert MANIFESTS[("ConfigMap", "esb-settings")]["data"]["ESB_QUEUE_TYPE"] == "quorum"


def test_api_relay_and_worker_scale_out() -> None:
    assert set(DEPLOYMENTS) == {"esb-api", "esb-relay", "esb-worker"}
    for deployment in DEPLOYMENTS.values():
        assert deployment["spec"]["replicas"] >= 2
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = MANIFESTS[("Service", "esb-api")]
    assert service["spec"]["selector"] == DEPLOYMENTS["esb-api"]["spec"]["selector"]["matchLabels"]


def esb_commands() -> dict[str, set[str]]:
    """Every `esb` command (with its group) and the option names it takes."""
    commands: dict[str, set[str]] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))
        options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        commands[" ".join(path)] = options

    walk(get_command(app), ())
    return commands


@pytest.mark.parametrize(
    "kind_name", [("Deployment", n) for n in DEPLOYMENTS] + [("Job", "esb-db-upgrade")]
)
def test_every_command_and_option_exists(kind_name: tuple[str, str]) -> None:
    command = container(MANIFESTS[kind_name])["command"]
    assert command[0] == "esb"
    words = [w for w in command[1:] if not w.startswith("-")]
    options = {w for w in command[1:] if w.startswith("-")}
    known = esb_commands()
    assert " ".join(words) in known, command
    assert options <= known[" ".join(words)], command


def test_every_esb_variable_is_a_setting() -> None:
    settings = {f"ESB_{name.upper()}" for name in Settings.model_fields}
    named = set(MANIFESTS[("ConfigMap", "esb-settings")]["data"])
    for kind_name in [("Deployment", n) for n in DEPLOYMENTS] + [("Job", "esb-db-upgrade")]:
        named |= {e["name"] for e in container(MANIFESTS[kind_name]).get("env", [])}
    assert {n for n in named if n.startswith("ESB_")} - settings == set()


def test_probes_hit_health_endpoints_on_a_served_port() -> None:
    settings = MANIFESTS[("ConfigMap", "esb-settings")]["data"]
    for name, deployment in DEPLOYMENTS.items():
        spec = container(deployment)
        ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
        served = settings["ESB_PORT"] if name == "esb-api" else settings["ESB_METRICS_PORT"]
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            check = spec[probe]["httpGet"]
            assert check["path"] == path, name
            assert ports[check["port"]] == int(served), name


def test_the_secrets_read_are_those_the_operators_create() -> None:
    made = {"esb-rabbitmq-default-user": {"username", "password"}, "esb-pg-app": {"uri"}}
    assert ("RabbitmqCluster", "esb-rabbitmq") in MANIFESTS  # makes <name>-default-user
    assert ("Cluster", "esb-pg") in MANIFESTS  # makes <name>-app
    for kind_name in [("Deployment", n) for n in DEPLOYMENTS] + [("Job", "esb-db-upgrade")]:
        for variable in container(MANIFESTS[kind_name]).get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None:
                assert ref["key"] in made[ref["name"]], (kind_name, ref)
