"""Where a delivery held back by a system's flow control waits, and when it asks again:
in its own process while a slot comes back soon, otherwise at a turn spread from the others
(deliveries held together must not all come back at once and crowd out the calls)."""

from __future__ import annotations

from collections import deque
from typing import Any, cast

import pytest

from esb.flow.gate import MAX_SLOT_WAIT_S, FlowGate
from esb.flow.handoff import WAITERS_PER_SLOT, LocalSlots


def slots_holding(n: int, waiting: int) -> LocalSlots:
    slots = LocalSlots()
    for _ in range(n):
        slots.took("mes")
    slots._waiting["mes"] = cast(Any, deque([object()] * waiting))  # stand-ins for futures
    return slots


def test_one_waiter_per_slot_held_and_none_without_a_slot() -> None:
    assert not slots_holding(0, 0).may_wait("mes", 0.001)
    assert slots_holding(2, 1).may_wait("mes", None)
    assert not slots_holding(2, 2).may_wait("mes", None)  # call time unknown: no more


def test_more_waiters_while_fast_calls_drain_them_within_the_wait() -> None:
    assert slots_holding(4, 4).may_wait("mes", 0.01)
    assert not slots_holding(4, 4 * WAITERS_PER_SLOT).may_wait("mes", 0.001)  # room for others
    assert not slots_holding(4, 4).may_wait("mes", 1.0)  # slow calls: deferred as before


def gate() -> Any:
    found: Any = FlowGate.__new__(FlowGate)
    found._call_s = {"mes": 0.04}
    found._slot_next = {}
    found._reopen_queue = {}
    found._slots = LocalSlots()
    return found


def test_an_open_breaker_s_held_deliveries_come_back_one_turnover_apart() -> None:
    flow = gate()
    turns = [flow._reopen_turn("mes", 4, 100.0) for _ in range(5)]
    assert turns == pytest.approx([100.0, 100.01, 100.02, 100.03, 100.04])  # the probe on time
    assert flow._reopen_turn("mes", 4, 103.0) == 103.0  # the next reopening starts afresh
    many = [flow._reopen_turn("mes", 4, 103.0) for _ in range(1000)]
    assert max(many) == 103.0 + MAX_SLOT_WAIT_S


def test_slot_turns_queue_behind_those_waiting_in_the_process() -> None:
    flow = gate()
    first = flow._slot_wait("mes", 4, 10.0)
    second = flow._slot_wait("mes", 4, 10.0)
    assert (first, second) == pytest.approx((10.01, 10.02))
    flow._slots = slots_holding(4, 8)
    assert flow._slot_wait("mes", 4, 20.0) == pytest.approx(20.0 + 9 * 0.01)
    assert flow._slot_wait("mes", 4, 20.0) <= 20.0 + MAX_SLOT_WAIT_S
