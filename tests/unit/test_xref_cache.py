"""The cache's compact domain: every lookup a dict of entities gave, without the dicts."""

from __future__ import annotations

import gc

from hypothesis import given
from hypothesis import strategies as st

from esb.xref import DomainIndex

SYSTEMS = st.sampled_from(["erp", "mes", "wms", "finance"])


@given(st.lists(st.dictionaries(SYSTEMS, st.text(min_size=1, max_size=5), min_size=1)))
def test_a_lookup_answers_what_the_entity_with_that_code_has(
    entities: list[dict[str, str]],
) -> None:
    index, owner = DomainIndex(), {}
    unique = []
    for entity in entities:  # codes are unique per system, as the store keeps them
        if not any((s, c) in owner for s, c in entity.items()):
            owner.update({(s, c): entity for s, c in entity.items()})
            unique.append(entity)
            index.add(entity)
    for (system, code), entity in owner.items():
        for to in ("erp", "mes", "wms", "finance", "nobody"):
            assert index.lookup(system, to, code) == entity.get(to)
    assert index.lookup("nobody", "erp", "x") is None
    assert index.size == len(unique)


def test_a_big_domain_gives_the_garbage_collector_nothing_to_walk() -> None:
    index = DomainIndex()
    for n in range(10_000):
        index.add({"erp": f"C{n}", "mes": f"9{n}", "wms": f"W{n}"})
    tracked = [o for o in (*index.numbers.values(), *index.codes.values()) if gc.is_tracked(o)]
    assert len(tracked) <= len(index.codes)  # the lists (one per system); no dict per entity
    assert index.lookup("mes", "wms", "9123") == "W123"
