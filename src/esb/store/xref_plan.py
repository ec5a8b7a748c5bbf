"""Planning master-data changes in memory: the entities a change can touch, kept exact as
each row is planned, and the rows that the planned changes write.

Pure logic (no database): a chunk of an import, or one PUT, is read once, planned row
by row here, then written in one batch. A conflict is decided here, row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from esb.errors import Conflict
from esb.ids import uuid7
from esb.store.xref_sql import CodeRow, CodesSql, EntityId, Pair
from esb.xref_csv import Entity


@dataclass
class Change:
    """One entity before and after a planned change (``before`` None: a new entity)."""

    entity: EntityId
    before: Entity | None
    after: Entity


@dataclass
class EntitySet:
    """The entities a change can touch, as they are now, kept exact as changes are planned."""

    sql: CodesSql
    entities: dict[EntityId, Entity] = field(default_factory=dict)
    index: dict[Pair, EntityId] = field(default_factory=dict)
    last_new: int = 0

    def add(self, entity: EntityId, system: str, code: str) -> None:
        self.entities.setdefault(entity, {})[system] = code
        self.index[(system, code)] = entity

    def owner(self, system: str, code: str) -> EntityId | None:
        return self.index.get((system, code))

    def entities_to_read(self, rows: Sequence[Entity], *, whole_keys: bool) -> set[EntityId]:
        """The entities known only by the codes ``rows`` name that planning needs whole."""
        wanted: set[EntityId] = set()
        for row in rows:
            key = self.index.get(next(iter(row.items())))
            if whole_keys and key is not None:
                wanted.add(key)
            for pair in row.items():
                if pair[1] and (owner := self.index.get(pair)) != key:
                    wanted.update(e for e in (key, owner) if e is not None)
        return wanted

    def plan(self, system: str, code: str, codes: Entity, *, empty_removes: bool) -> Change | None:
        """Set ``codes`` on the entity ``system`` calls ``code`` (new if none); None: no change.

        A code that already names a different entity is a Conflict: master data is never
        re-keyed as a side effect. The set is updated, so the next plan sees this one.
        """
        entity = self.owner(system, code)
        before = self.entities.get(entity) if entity is not None else None
        after = dict(before or {system: code})
        for other, value in codes.items():
            if other == system:
                continue
            if value:
                owner = self.owner(other, value)
                if owner is not None and owner != entity:
                    raise Conflict(
                        f"{other} code {value!r} already names another entity "
                        f"({self.describe(owner)})"
                    )
                after[other] = value
            elif empty_removes:
                after.pop(other, None)
        if after == before:
            return None
        change = Change(self._new_id() if entity is None else entity, before, after)
        self._apply(change)
        return change

    def describe(self, entity: EntityId) -> str:
        return ", ".join(f"{s} {c!r}" for s, c in self.entities[entity].items())

    def _new_id(self) -> EntityId:
        """A UUIDv7 above the previous one: entities export in the order they were planned,
        also within one millisecond."""
        self.last_new = max(uuid7().int, self.last_new + 1)
        return self.sql.new_id(self.last_new)

    def _apply(self, change: Change) -> None:
        """Codes the entity gave up name nothing any more: a later row may take them."""
        for pair in (change.before or {}).items():
            if self.index.get(pair) == change.entity:
                del self.index[pair]
        self.entities[change.entity] = change.after
        self.index.update(dict.fromkeys(change.after.items(), change.entity))


@dataclass
class Writes:
    """What a batch of changes writes: per entity, its codes in the database and as last
    planned (one entity changed by two rows of a chunk is written once)."""

    entities: dict[EntityId, tuple[Entity, Entity]] = field(default_factory=dict)

    def add(self, change: Change) -> None:
        stored = self.entities.get(change.entity, (change.before or {}, {}))[0]
        self.entities[change.entity] = (stored, change.after)

    def rows(self) -> tuple[list[tuple[EntityId, str]], list[CodeRow]]:
        """(entity, system) rows to delete, then (entity, system, code) rows to insert: a
        code that changed is both."""
        deletes, inserts = [], []
        for entity, (stored, after) in self.entities.items():
            deletes += [(entity, s) for s, c in stored.items() if after.get(s) != c]
            inserts += [(entity, s, c) for s, c in after.items() if stored.get(s) != c]
        return deletes, inserts
