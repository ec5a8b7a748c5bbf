"""The YAML files the integration team edits, as pydantic models (the JSON Schemas come from here).

``systems.yaml`` says who may call in; ``interfaces.yaml`` (or ``interfaces/*.yaml``) says
what happens to each message type from each source: targets, connector, retries.
The connector part of a target is a discriminated union on ``kind`` over every
installed connector, so the union is built once the registry is known.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, create_model

from esb.config.flow import FlowConfig
from esb.config.shadow import ShadowBase
from esb.config.types import Duration, HealthThresholds, RetryPolicy, StrictModel, Switch
from esb.configfile.models import NAME_PATTERN as NAME_PATTERN  # re-exported: its old home
from esb.configfile.models import Name as Name
from esb.connectors.base import ConnectorConfig
from esb.connectors.inbound import InboundConfig


class SystemConfig(StrictModel):
    """An application we talk to. A system that calls us has a key; one we only call needs none."""

    description: str = ""
    api_key: SecretStr | None = Field(
        default=None, description="the caller's bearer key; write ${ENV_VAR}, never the key"
    )
    api_key_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="alternative to api_key: the hex SHA-256 of the key",
    )
    flow: FlowConfig | None = Field(
        default=None,
        description="how hard the gateway may call this system: max_in_flight, rate, breaker",
    )


class SystemsFile(StrictModel):
    systems: dict[Name, SystemConfig]


class TargetBase(StrictModel):
    """One destination of an interface: which system, through which connector."""

    system: Name | None = Field(default=None, description="system called; default: target name")
    description: str = ""
    when: str | None = Field(
        default=None,
        description="route here only when this expression on the body is true, "
        "e.g. OrderType == '02'",
    )
    mapping: Name | None = Field(
        default=None, description="file name in mappings/ (no .yaml); none: body unchanged"
    )
    deadline: Duration | None = Field(
        default=None,
        description="a document should reach this target within this time, "
        "e.g. 5m; the report shows the share on time and the trace marks overdue ones",
    )
    retry: RetryPolicy | None = Field(default=None, description="overrides the interface's")
    health: HealthThresholds | None = Field(default=None, description="overrides the interface's")
    ordering: Literal["none", "key"] = Field(
        default="none",
        description="key: documents with the same business key reach this target in the "
        "order they were accepted, one at a time (a parked one holds the later ones back "
        "until it is replayed or discarded); needs the interface's key",
    )
    supersede: bool = Field(
        default=False,
        description="with ordering: key, a later document for the same key replaces an "
        "earlier one still waiting (recorded as superseded), for 'latest state' feeds",
    )
    connector: ConnectorConfig
    shadow: ShadowBase | None = Field(
        default=None,
        description="a parallel run before go-live: a candidate mapping for this target "
        "(mapping:), or this target standing for the system that replaces another (of:); "
        "compared with the live output, nothing sent (see docs/operations.md)",
    )

    @property
    def ordered(self) -> bool:
        return self.ordering == "key"


class InterfaceBase(StrictModel):
    """One message type from one source system, and where it goes."""

    description: str = ""
    enabled: Switch = True
    source: Name = Field(description="the system that sends this message type")
    message_type: Name = Field(description="the {message_type} of POST /v1/messages/{message_type}")
    key: str | None = Field(
        default=None, description="expression giving the business key, e.g. OrderNo"
    )
    input_schema: str | None = Field(
        default=None,
        alias="schema",
        description="JSON Schema file (relative to the configuration folder) the body must "
        "pass at the door; failures get 422 naming every field",
    )
    inbound: list[InboundConfig] = Field(
        default_factory=list,
        description="other ways in besides HTTP: a watched folder, a SOAP endpoint...",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    health: HealthThresholds = Field(default_factory=HealthThresholds)
    minutes_per_document: float | None = Field(
        default=None,
        gt=0,
        le=1440,
        description="minutes a person would spend keying one document of this interface "
        "by hand; the value report estimates the hours saved from it (none: no estimate)",
    )
    targets: dict[Name, TargetBase] = Field(min_length=1)

    def target_retry(self, target: str) -> RetryPolicy:
        return self.targets[target].retry or self.retry

    def target_health(self, target: str) -> HealthThresholds:
        return self.targets[target].health or self.health

    def target_system(self, target: str) -> str:
        return self.targets[target].system or target


class InterfacesFileBase(StrictModel):
    interfaces: dict[Name, InterfaceBase]


def _kind_union(models: list[type[Any]]) -> Any:
    if len(models) == 1:
        return models[0]
    return Annotated[reduce(operator.or_, models), Field(discriminator="kind")]


def interfaces_file_model(
    models: list[type[ConnectorConfig]], inbound: list[type[InboundConfig]] | None = None
) -> type[InterfacesFileBase]:
    """The interfaces file model, ``connector``/``inbound`` narrowed to what is installed."""
    kinds = _kind_union(models)
    said = ShadowBase.model_fields["send"].description
    shadow: Any = create_model(
        "Shadow", __base__=ShadowBase, send=(kinds | None, Field(None, description=said))
    )
    said = TargetBase.model_fields["shadow"].description
    target: Any = create_model(
        "Target",
        __base__=TargetBase,
        connector=(kinds, ...),
        shadow=(shadow | None, Field(None, description=said)),
    )
    targets: Any = dict.__class_getitem__((Name, target))
    fields: dict[str, Any] = {"targets": (targets, Field(min_length=1))}
    if inbound:
        sources: Any = list.__class_getitem__(_kind_union(inbound))
        fields["inbound"] = (sources, Field(default_factory=list))
    else:  # no inbound plugin installed: nothing can be declared
        fields["inbound"] = (list[InboundConfig], Field(default_factory=list, max_length=0))
    interface: Any = create_model("Interface", __base__=InterfaceBase, **fields)
    interfaces: Any = dict.__class_getitem__((Name, interface))
    return create_model("InterfacesFile", __base__=InterfacesFileBase, interfaces=(interfaces, ...))


class RobotLimit(StrictModel):
    """How many messages a chat robot takes in a window (WeCom and DingTalk: 20 a minute)."""

    messages: int = Field(default=20, ge=1, le=1000, description="messages per window")
    per: Duration = Field(default=60.0, gt=0, description="the window")


class ChatChannel(StrictModel):
    """A team chat robot that gets the alerts as markdown (``alerts.channels``)."""

    enabled: Switch = True
    kind: Literal["wecom", "dingtalk"] = Field(
        description="wecom: a WeCom group robot; dingtalk: a DingTalk custom robot"
    )
    url: str = Field(
        pattern=r"^https?://",
        description="the robot's webhook URL with its key or access_token; write ${ENV_VAR}",
    )
    secret: SecretStr | None = Field(
        default=None,
        description="dingtalk: the robot's signing secret (SEC...); calls are then signed",
    )
    language: Literal["zh", "en"] | None = Field(
        default=None, description="the message language (default: alerts.language)"
    )
    limit: RobotLimit = Field(
        default_factory=RobotLimit, description="the robot's rate limit; bursts fold into digests"
    )

    def url_shown(self) -> str:
        """The URL without its query (the key or token is a credential)."""
        return self.url.split("?", 1)[0]


class AlertsConfig(StrictModel):
    """Where to tell people that an interface is failing or backed up (alerts.yaml)."""

    webhook: str | None = Field(
        default=None, pattern=r"^https?://", description="POSTed a JSON notification"
    )
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="e.g. a token")
    channels: dict[Name, ChatChannel] = Field(
        default_factory=dict,
        description="chat robots by name (WeCom, DingTalk); a channel with enabled: false "
        "or empty is left out",
    )
    language: Literal["zh", "en"] = Field(
        default="zh", description="the chat messages' language: zh (default) or en"
    )
    every: Duration = Field(default=900.0, description="at most one alert per target per this")
    check: Duration = Field(default=30.0, description="how often the health is evaluated")
    window: Duration = Field(default=900.0, description="the report window the check uses")
    dashboard_url: str = Field(
        default="http://127.0.0.1:8000/dashboard", description="linked from every alert"
    )


class AlertsFile(StrictModel):
    alerts: AlertsConfig
