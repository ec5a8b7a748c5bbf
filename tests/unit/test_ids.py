"""UUIDv7 identifiers: version, variant, time prefix, and no two alike."""

from __future__ import annotations

import pickle
import time
from uuid import UUID, SafeUUID

import pytest

from esb.ids import uuid7, uuid7s


def test_a_page_of_ids_are_version_7_of_this_millisecond_and_all_different() -> None:
    before = time.time_ns() // 1_000_000
    ids = uuid7s(1000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 1000
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {"specified in RFC 4122"}
    assert all(before <= i.int >> 80 <= after for i in ids)


def test_ids_made_later_sort_later() -> None:
    first = uuid7s(3)
    time.sleep(0.002)
    assert all(earlier < later for earlier in first for later in [uuid7(), *uuid7s(2)])


def test_an_id_behaves_as_one_parsed_from_its_text() -> None:
    made = uuid7s(50)
    parsed = [UUID(str(i)) for i in made]
    assert made == parsed
    assert [hash(i) for i in made] == [hash(i) for i in parsed]
    assert [i.hex for i in made] == [i.hex for i in parsed]
    assert {i.is_safe for i in made} == {SafeUUID.unknown}
    assert pickle.loads(pickle.dumps(made)) == parsed
    with pytest.raises(TypeError):
        made[0].int = 1  # type: ignore[misc]
