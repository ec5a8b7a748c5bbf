"""The database schema (SQLAlchemy Core). Alembic migrations are checked against it in tests.

messages ─< deliveries ─< attempts
               │
               ├─< outbox      rows the relay publishes (also the retry timer: available_at)
               ├── ordering_heads  per interface/target/business key: the one delivery out
               ├─< audit_log   operator actions (who, when, why, before/after)
               └─< shadow_comparisons  a parallel run's output against what was sent

flow_state      per system called: rate timestamp, circuit breaker (flow control)
flow_slots      per system: leases for max_in_flight, each with an expiry
flow_deferrals  deliveries put back by flow control, and why
flow_events     the breaker opening and closing (alert events)
alert_state     when each alert was last sent (at most one per interval, any process)
alert_queue     chat alerts waiting for their robot's rate limit (folded into a digest)
alert_channels  each chat robot's last send: ok or its error (the health report shows it)
reconcile_runs  what each consistency check found and did
config_state    the configuration last recorded in the audit log (one entry per change,
                however many processes load it)
source_state    each inbound source's own durable keys and JSON values (the file ledger...)
source_leases   which process runs each inbound source now (until its lease expires)
xref_codes      master data: per domain, which code each system uses for one entity
xref_versions   bumped with every change, so every process knows when to reload
shadow_days     per shadow and day: compared, matched, differed, failed (the match rate)
shadow_field_days  per shadow, day and field: in how many comparisons it differed
shadow_promotions  which parallel runs an operator made live (applied by every process)
refusals        per interface, factory day and field: documents refused at the door (422)
value_days      per interface and factory day: messages moved, deliveries retried or fixed
value_latency   per interface, factory day and rounded end-to-end time: messages moved
value_rollup    how far value_days and value_latency are rolled up, in which time zone
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: An integer key that autoincrements on both PostgreSQL (bigint) and SQLite (rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on PostgreSQL and on SQLite (which has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


messages = Table(
    "messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("interface", String(100), nullable=False),
    Column("message_type", String(100), nullable=False),
    Column("source_system", String(100), nullable=False),
    Column("business_key", String(200), index=True),
    Column("idempotency_key", String(250), nullable=False, doc="'key:' + header, or the hash"),
    Column("fingerprint", String(71), doc="canonical hash of the body (a key reused differently)"),
    Column("content_type", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("skipped", Text, doc="JSON list of targets not routed to, with the reason"),
    Column("received_at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("source_system", "message_type", "idempotency_key"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, ForeignKey("messages.id"), nullable=False, index=True),
    Column("interface", String(100), nullable=False),
    Column("target", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("round_attempts", Integer, nullable=False, default=0, doc="attempts since replay"),
    Column(
        "redeliveries",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        doc="handed to a worker again without a recorded outcome (crash, failed record)",
    ),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("end_to_end_ms", Float, doc="accepted -> delivered; kept for report percentiles"),
    Column("sent_body", Text, doc="the mapped body of the last attempt: what the target got"),
    Column("corrected_body", Text, doc="an operator's fix of the mapped body, sent instead"),
    Column("order_key", String(200), doc="business key when its target orders by key"),
    Column("order_seq", BigInteger, doc="its place in the key's acceptance order"),
    Column("superseded_by", Uuid, doc="the message that replaced it while it waited"),
    Index(None, "interface", "target", "status"),
    Index(None, "interface", "target", "order_key", "order_seq"),
    Index(None, "status", "updated_at"),
    Index(None, "created_at"),  # the report's window scans
    Index(None, "delivered_at"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("interface", String(100), nullable=False),
    Column("target", String(100), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("detail", Text, doc="JSON fields the target answered, e.g. a SOAP response"),
    Index(None, "interface", "target", "started_at"),
    Index(None, "started_at"),  # the report's window scan
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index(None, "status", "available_at"),
)

ordering_heads = Table(
    "ordering_heads",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("target", String(100), primary_key=True),
    Column("business_key", String(200), primary_key=True),
    Column(
        "head_id",
        Uuid,
        index=True,
        doc="the key's delivery that may go out (sent, retrying or parked); none: idle",
    ),
    Column("last_seq", BigInteger, nullable=False, doc="order_seq of the newest delivery"),
    Column("updated_at", UtcDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("delivery_id", Uuid, index=True),
    Column("interface", String(100), doc="acted on without a delivery (shadow promotion)"),
    Column("target", String(100)),
    Column("reason", Text, nullable=False),
    Column("before", Text),
    Column("after", Text),
)

config_state = Table(
    "config_state",
    metadata,
    Column("name", String(50), primary_key=True, doc="one row: 'configuration'"),
    Column("digest", String(64), nullable=False, doc="the files' SHA-256 last recorded"),
    Column("summary", Text, nullable=False, doc="what they said, secrets masked (JSON)"),
    Column("refused", String(129), doc="running:refused digests of the last refusal recorded"),
    Column("at", UtcDateTime, nullable=False),
)

xref_codes = Table(
    "xref_codes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("domain", String(100), nullable=False),
    Column("entity", Uuid, nullable=False, doc="one real-world thing, e.g. one customer"),
    Column("system", String(100), nullable=False),
    Column("code", String(200), nullable=False),
    UniqueConstraint("domain", "system", "code"),
    UniqueConstraint("domain", "entity", "system"),
)

xref_versions = Table(
    "xref_versions",
    metadata,
    Column("domain", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

source_state = Table(
    "source_state",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("kind", String(100), primary_key=True, doc="the inbound source's kind"),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False, doc="JSON"),
    Column("updated_at", UtcDateTime, nullable=False),
)

source_leases = Table(
    "source_leases",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("kind", String(100), primary_key=True),
    Column("owner", String(200), nullable=False, doc="host:pid:nonce of the running process"),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
)

reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("started_at", UtcDateTime, nullable=False, index=True),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("trigger", String(50), nullable=False, doc="schedule | api | cli"),
    Column("found", Text, nullable=False, doc="JSON: counts of each kind of inconsistency"),
    Column("actions", Text, nullable=False, doc="JSON: what was re-driven or reset"),
)

alert_state = Table(
    "alert_state",
    metadata,
    Column("key", String(300), primary_key=True, doc="interface/target/kind"),
    Column("last_sent_at", UtcDateTime, nullable=False),
)

alert_queue = Table(
    "alert_queue",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(100), nullable=False, index=True),
    Column("body", Text, nullable=False, doc="the notification as JSON"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("taken_by", String(64), doc="the send that holds it now"),
    Column("taken_at", UtcDateTime),
)

alert_channels = Table(
    "alert_channels",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime),
    Column("last_sent_at", UtcDateTime),
    Column("sent", Integer, nullable=False, doc="messages the robot accepted"),
    Column("limited_until", UtcDateTime, doc="the robot answered its rate limit: wait"),
)

#: Flow control keeps its times as epoch seconds (Float): the statements compare and add
#: to them the same way on PostgreSQL and SQLite.
flow_state = Table(
    "flow_state",
    metadata,
    Column("system", String(100), primary_key=True),
    Column("rate_tat", Float, doc="GCRA: the theoretical time of the next call (epoch s)"),
    Column(
        "rate_queue",
        Float,
        doc="when the last deliveries waiting for the rate were told to come back",
    ),
    Column("breaker", String(20), nullable=False, doc="closed | open | half_open"),
    Column("failures", Integer, nullable=False, doc="consecutive transient failures"),
    Column("reopen_at", Float, doc="open: when the cool-down ends (epoch s)"),
    Column("probe_owner", String(200), doc="half_open: the process making the probe call"),
    Column("probe_until", Float, doc="half_open: the probe's lease (epoch s)"),
    Column("changed_at", UtcDateTime, doc="when the breaker last opened or closed"),
)

flow_slots = Table(
    "flow_slots",
    metadata,
    Column("system", String(100), primary_key=True),
    Column("slot", Integer, primary_key=True, doc="0 .. max_in_flight - 1"),
    Column("lease", String(64), doc="the holder's lease id; null: free"),
    Column("owner", String(200), doc="host:pid:nonce of the process holding it"),
    Column("expires_at", Float, doc="free again after this even if never released (epoch s)"),
)

flow_deferrals = Table(
    "flow_deferrals",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("system", String(100), nullable=False, index=True),
    Column("reason", String(20), nullable=False, doc="breaker | rate | max_in_flight"),
    Column("until", UtcDateTime, nullable=False),
    Column("deferred_at", UtcDateTime, nullable=False),
)

flow_events = Table(
    "flow_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system", String(100), nullable=False),
    Column("event", String(20), nullable=False, doc="breaker_opened | breaker_closed"),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("detail", Text, doc="why, in words"),
)

shadow_comparisons = Table(
    "shadow_comparisons",
    metadata,
    Column("delivery_id", Uuid, primary_key=True, doc="the live delivery compared against"),
    Column(
        "target",
        String(100),
        primary_key=True,
        doc="the shadow: the live target itself (a candidate mapping) or the new target",
    ),
    Column("interface", String(100), nullable=False),
    Column("day", String(10), nullable=False, doc="the factory's date (YYYY-MM-DD)"),
    Column("compared_at", UtcDateTime, nullable=False),
    Column("outcome", String(20), nullable=False, doc="match | differ | failed"),
    Column("detail", Text, doc="JSON: the first differences, or the shadow's error"),
    Column("sent", Text, doc="the test endpoint: delivered, or why not; null: not sent"),
    Index(None, "interface", "target", "outcome", "compared_at"),  # the latest of an outcome
)

shadow_days = Table(
    "shadow_days",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("target", String(100), primary_key=True),
    Column("day", String(10), primary_key=True, doc="the factory's date (YYYY-MM-DD)"),
    Column("compared", Integer, nullable=False, doc="deliveries compared"),
    Column("matched", Integer, nullable=False, doc="the same output, masked fields aside"),
    Column("differed", Integer, nullable=False),
    Column("failed", Integer, nullable=False, doc="the shadow produced nothing"),
    Column("sent", Integer, nullable=False, doc="taken by the test endpoint"),
    Column("send_failed", Integer, nullable=False, doc="not taken by the test endpoint"),
)

shadow_field_days = Table(
    "shadow_field_days",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("target", String(100), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("field", String(300), primary_key=True, doc="items[*].qty: every item alike"),
    Column("messages", Integer, nullable=False, doc="comparisons in which it differed"),
)

shadow_promotions = Table(
    "shadow_promotions",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("target", String(100), primary_key=True, doc="the shadow's target"),
    Column("kind", String(20), nullable=False, doc="mapping | target"),
    Column("mapping", String(100), doc="kind mapping: the candidate made live"),
    Column(
        "previous",
        String(100),
        doc="kind mapping: the mapping it replaced (null: none); kind target: the target",
    ),
    Column("state", String(20), nullable=False, doc="promoted | rolled_back"),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("changed_by", String(200), nullable=False),
)

#: The value report's figures (``esb.value_report``). ``day`` is a date in the factory's
#: time zone (``ESB_TIME_ZONE``), so a month is a range of days.
refusals = Table(
    "refusals",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("field", String(200), primary_key=True, doc="the first field named; '': the body"),
    Column("documents", BigInteger, nullable=False, doc="documents refused (each time)"),
)

value_days = Table(
    "value_days",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("moved", BigInteger, nullable=False, doc="messages whose last target got them"),
    Column("retried", BigInteger, nullable=False, doc="delivered after a retry, no operator"),
    Column("fixed", BigInteger, nullable=False, doc="delivered after an operator's replay"),
)

value_latency = Table(
    "value_latency",
    metadata,
    Column("interface", String(100), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("bucket_ms", BigInteger, primary_key=True, doc="end-to-end time, rounded down"),
    Column("messages", BigInteger, nullable=False),
)

value_rollup = Table(
    "value_rollup",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("rolled_to", UtcDateTime, nullable=False, doc="value_days holds all before this"),
    Column("time_zone", String(64), nullable=False, doc="the zone its days are in"),
    Column("updated_at", UtcDateTime, nullable=False),
)
