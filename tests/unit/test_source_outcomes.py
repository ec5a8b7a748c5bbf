"""What a source is told of a message: one state across all its deliveries."""

from __future__ import annotations

from esb.sdk import MessageOutcome
from esb.store.source_outcomes import DISCARDED, SUPERSEDED, summarise


def test_one_state_for_all_targets() -> None:
    assert summarise([("delivered", None), ("delivered", None)]) == MessageOutcome("delivered")
    assert summarise([(None, None)]) == MessageOutcome("delivered")  # routed to no target
    assert summarise([("delivered", None), ("pending", "503")]) == MessageOutcome("waiting")
    assert summarise([("pending", None), ("parked", "xref material: no erp code")]) == (
        MessageOutcome("parked", "xref material: no erp code")
    )
    assert summarise([("discarded", "not needed"), ("delivered", None)]) == (
        MessageOutcome("discarded", "not needed")
    )
    assert summarise([("discarded", None)]) == MessageOutcome("discarded", DISCARDED)
    assert summarise([("superseded", None)]) == MessageOutcome("discarded", SUPERSEDED)
