"""The states a delivery, an attempt and an outbox row can be in."""

from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first attempt or a retry
    DELIVERED = "delivered"
    PARKED = "parked"  # failed permanently or ran out of retries; needs an operator
    DISCARDED = "discarded"  # an operator decided it will not be delivered
    SUPERSEDED = "superseded"  # a later document for its key replaced it while it waited


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PARKED = "parked"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # to be published when available_at has come
    CLAIMED = "claimed"  # embedded mode: handed to an in-process worker
    SENT = "sent"  # confirmed by the broker (or, embedded, its outcome recorded)
    DROPPED = "dropped"  # its delivery was no longer pending


FINAL_DELIVERY = frozenset(
    {DeliveryStatus.DELIVERED, DeliveryStatus.DISCARDED, DeliveryStatus.SUPERSEDED}
)
