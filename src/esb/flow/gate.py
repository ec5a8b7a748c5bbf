"""Flow control at the door of a target system: breaker, in-flight cap, rate (systems.yaml).

Before a worker calls a system with a ``flow:`` section, the gate asks the database
(one short transaction) whether the call may go now. If it may not — breaker open, no
free slot, rate spent — the delivery is *deferred*: put back in the outbox with a later
``available_at`` and no attempt, like a retry timer that costs nothing, so it holds no
worker and no prefetch slot while it waits and its retry schedule does not move. A slot
is a lease with an expiry, renewed while the call runs: a killed worker's slot comes back.
Systems without ``flow:`` pass without a statement.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from esb.config.flow import FlowConfig
from esb.errors import StoreUnavailable
from esb.flow.breaker import count_outcome, system_pairs
from esb.flow.handoff import HANDOFF, Handoff, LocalSlots
from esb.live import LiveConfig
from esb.metrics import Metrics
from esb.store import flow as store
from esb.store.breaker import CLOSED, HALF_OPEN, OPEN, take_probe
from esb.store.breaker import breaker as read_breaker
from esb.store.engine import transaction, utcnow
from esb.task import DeliveryTask

log = structlog.get_logger(__name__)

#: While another call probes a half-open breaker, the others look again this much later.
PROBE_WAIT_S = 0.5
#: The longest a delivery waits for a free slot before it asks again.
MAX_SLOT_WAIT_S = 1.0
#: A call whose turn of the rate is this close waits for it in the worker (exact spacing,
#: no round trip); a later one is deferred. At most RATE_AHEAD_CALLS calls per system wait
#: like that at any time, so they cannot fill a worker's prefetch.
RATE_AHEAD_S = 0.5
RATE_AHEAD_CALLS = 8
#: A call's end is written again after a brief pause when the database turns it away (a
#: deadlock victim, a dropped connection): left unwritten, its slot and probe would stay
#: taken until their lease runs out, and a half-open breaker would hold every call back.
FINISH_TRIES = 4
FINISH_PAUSE_S = 0.2


@dataclass
class Admission:
    """Leave to call: the slot and probe it holds until ``FlowGate.finish``."""

    system: str | None  # None: the system has no flow control
    lease: str = ""
    slot: int | None = None
    probe: bool = False
    turn: float | None = None  # the rate's time for this call (it waits for it)
    flow: FlowConfig | None = None
    started: float = field(default_factory=lambda: utcnow().timestamp())


FREE = Admission(None)


@dataclass(frozen=True)
class Defer:
    reason: str  # breaker | max_in_flight | rate
    until: float


def process_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class FlowGate:
    def __init__(
        self, engine: AsyncEngine, live: LiveConfig, metrics: Metrics, lease_s: float = 30.0
    ) -> None:
        self.engine = engine
        self.live = live
        self.metrics = metrics
        self.lease_s = lease_s
        self.owner = process_owner()
        self._numbers = itertools.count()
        self._slots = LocalSlots()
        self._held: set[str] = set()
        self._ready: set[tuple[str, int]] = set()
        self._call_s: dict[str, float] = {}  # recent call time per system (slot waits)
        self._slot_next: dict[str, float] = {}  # this process's queue for slots, per system
        self._reopen_queue: dict[str, tuple[float, int]] = {}  # (reopening, held for it)

    def system_of(self, task: DeliveryTask) -> tuple[str, FlowConfig] | None:
        config = self.live.config
        interface = config.interfaces.get(task.interface)
        if interface is None or task.target not in interface.targets:
            return None
        system = interface.target_system(task.target)
        spec = config.systems.get(system)
        return None if spec is None or spec.flow is None else (system, spec.flow)

    async def admit(self, task: DeliveryTask, outbox_id: int | None) -> Admission | None:
        """Leave to call now, or None: the delivery was deferred (committed) and waits."""
        found = self.system_of(task)
        if found is None:
            return FREE
        system, flow = found
        decision = await self._gate(task, system, flow, outbox_id, handoff=True)
        if isinstance(decision, Handoff):  # a slot of this process comes free soon: wait
            await self._slots.wait(system)
            decision = await self._gate(task, system, flow, outbox_id, handoff=False)
            assert not isinstance(decision, Handoff)
        if isinstance(decision, Defer):
            self.metrics.deferred.labels(system, decision.reason).inc()
            log.debug("deferred", system=system, reason=decision.reason, until=decision.until)
            return None
        admission = decision
        if admission.slot is not None:
            self._slots.took(system)
        if admission.slot is not None or admission.probe:
            self._held.add(admission.lease)
        if admission.turn is not None and (wait := admission.turn - utcnow().timestamp()) > 0:
            try:
                await asyncio.sleep(wait)  # at most RATE_AHEAD_S: the rate's exact spacing
            except BaseException:  # stopped while waiting: give the slot back
                await self.finish(admission, called=False, failed=False)
                raise
            admission.started = utcnow().timestamp()
        return admission

    async def _gate(
        self,
        task: DeliveryTask,
        system: str,
        flow: FlowConfig,
        outbox_id: int | None,
        *,
        handoff: bool,
    ) -> Admission | Defer | Handoff:
        """One transaction: leave to call, a committed deferral, or HANDOFF (no slot now, but
        this process holds one that its call will give back in a moment: nothing written)."""
        now_at = utcnow()
        now = now_at.timestamp()
        admission = Admission(system, f"{self.owner}/{next(self._numbers)}", flow=flow)
        async with transaction(self.engine) as conn:
            await self._ensure(conn, system, flow)
            await store.forget_deferral(conn, task.delivery_id)
            decision = await self._decide(conn, admission, flow, now)
            if decision is None:
                return admission
            if (
                handoff
                and decision.reason == "max_in_flight"
                and self._slots.may_wait(system, self._call_s.get(system))
            ):
                return HANDOFF
            await store.defer(
                conn,
                delivery_id=task.delivery_id,
                system=system,
                reason=decision.reason,
                until=datetime.fromtimestamp(decision.until, UTC),
                outbox_id=outbox_id,
                now=now_at,
            )
        return decision

    async def _ensure(self, conn: AsyncConnection, system: str, flow: FlowConfig) -> None:
        slots = flow.max_in_flight or 0
        if (system, slots) not in self._ready:
            await store.ensure_rows(conn, system, slots)
            self._ready.add((system, slots))

    async def _decide(
        self,
        conn: AsyncConnection,
        admission: Admission,
        flow: FlowConfig,
        now: float,
    ) -> Defer | None:
        """A slot, then the breaker, then the rate: a later step never spends an earlier
        one's resource for nothing (a slot taken and then refused is given back).

        The breaker is read after the slot is taken: the call that held the slot may
        have opened the breaker as it gave the slot back (one transaction), and each
        statement sees the latest commit, so a free slot comes with the breaker its
        holder left (read first, a closed breaker and then the freed slot let one call
        through to a system whose breaker was open: a CI run saw it)."""
        system = admission.system
        assert system is not None
        if flow.max_in_flight is not None:
            admission.slot = await store.take_slot(
                conn, system, flow.max_in_flight, admission.lease, self.owner, now,
                now + self.lease_s,
            )  # fmt: skip
        if flow.breaker is not None:
            breaker = await read_breaker(conn, system)
            held: Defer | None = None
            cap = flow.max_in_flight or 1
            if breaker.state == OPEN and (breaker.reopen_at or 0) > now:
                held = Defer("breaker", self._reopen_turn(system, cap, breaker.reopen_at or now))
            elif breaker.state == HALF_OPEN and (breaker.probe_until or 0) >= now:
                held = Defer("breaker", self._ticket(system, cap, now + PROBE_WAIT_S))
            if held is not None:
                if admission.slot is not None:
                    await store.release(conn, system, admission.slot, admission.lease, False)
                    admission.slot = None
                return held
            admission.probe = breaker.state != CLOSED
        if flow.max_in_flight is not None and admission.slot is None:
            wait = self._slot_wait(system, flow.max_in_flight, now)
            return Defer("max_in_flight", wait)
        if flow.rate is not None:
            step = 1.0 / flow.rate
            ahead = min(RATE_AHEAD_S, RATE_AHEAD_CALLS * step)
            turn = await store.spend_rate(conn, system, now, step, ahead)
            if turn.retry is not None:
                await store.release(conn, system, admission.slot, admission.lease, False)
                return Defer("rate", turn.retry)
            admission.turn = turn.at
        if admission.probe and not await take_probe(
            conn, system, admission.lease, now, now + self.lease_s
        ):
            await store.release(conn, system, admission.slot, admission.lease, False)
            return Defer("breaker", now + PROBE_WAIT_S)
        return None

    def _slot_wait(self, system: str, cap: int, now: float) -> float:
        """When to ask again for a slot: behind this process's other waiters."""
        return self._ticket(system, cap, now, behind=self._slots.waiting(system))

    def _reopen_turn(self, system: str, cap: int, reopen_at: float) -> float:
        """When a delivery held by an open breaker asks again: the first at the reopening
        itself (the probe goes on time), the others one slot turnover apart after it."""
        seen, count = self._reopen_queue.get(system, (reopen_at, 0))
        count = count + 1 if seen == reopen_at else 1
        self._reopen_queue[system] = (reopen_at, count)
        turnover = max(self._call_s.get(system, 0.1), 0.01) / cap
        return reopen_at + min((count - 1) * turnover, MAX_SLOT_WAIT_S)

    def _ticket(self, system: str, cap: int, start: float, behind: int = 0) -> float:
        """A turn from ``start`` on, one slot turnover after this process's last one, so
        deliveries held back together (a breaker's reopening, a full system) come back
        at the pace of the calls instead of all at once, each herd crowding out the calls
        it waits for; never more than MAX_SLOT_WAIT_S after ``start``."""
        turnover = max(self._call_s.get(system, 0.1), 0.01) / cap
        first = start + behind * turnover
        ticket = max(self._slot_next.get(system, first), first) + turnover
        self._slot_next[system] = ticket
        return min(ticket, start + MAX_SLOT_WAIT_S)

    async def finish(self, admission: Admission, *, called: bool, failed: bool) -> None:
        """The call is over (or never happened): its outcome moves the breaker, the slot
        and the probe are given back. The attempt itself is already recorded."""
        system, flow = admission.system, admission.flow
        if system is None or flow is None:
            return
        now_at = utcnow()
        took = now_at.timestamp() - admission.started
        self._call_s[system] = 0.8 * self._call_s.get(system, took) + 0.2 * took
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(StoreUnavailable),
                stop=stop_after_attempt(FINISH_TRIES),
                wait=wait_random(0.0, FINISH_PAUSE_S),
                reraise=True,
            ):
                with attempt:
                    await self._count_and_release(admission, system, flow, called, failed)
        except StoreUnavailable as exc:  # the attempt is recorded; the lease runs out by itself
            log.warning("flow state not updated", system=system, error=str(exc))
        finally:
            self._held.discard(admission.lease)
            if admission.slot is not None:
                self._slots.gave_back(system)

    async def _count_and_release(
        self, admission: Admission, system: str, flow: FlowConfig, called: bool, failed: bool
    ) -> None:
        async with transaction(self.engine) as conn:
            if called and flow.breaker is not None:
                pairs = system_pairs(self.live.config, system)
                await count_outcome(conn, flow.breaker, system, admission.lease, failed, pairs)
            await store.release(conn, system, admission.slot, admission.lease, admission.probe)

    async def renew_forever(self) -> None:
        """Keep the leases of running calls alive; a process that dies stops renewing."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            held = list(self._held)
            if held:
                until = utcnow().timestamp() + self.lease_s
                try:
                    async with transaction(self.engine) as conn:
                        await store.renew(conn, held, until)
                except Exception:  # the database is away: retried next round
                    log.exception("flow leases not renewed")
