"""One comparison of a parallel run: the shadow's output against what the live path sent.

The comparison is ``esb.mapping.compare`` (numbers by value, key order free, list order
significant), the one ``esb mapping test`` and ``esb mapping diff`` use; the masks drop
the volatile fields before anything is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from esb.mapping import ABSENT, Difference, compare
from esb.shadow.masks import Masks, field_name

#: Differences kept per comparison, with their values, for people to look at.
KEPT_DIFFERENCES = 20
#: Characters of a shadow's error kept.
MAX_ERROR = 2000


class Outcome(StrEnum):
    MATCH = "match"  # the same output, masked fields aside
    DIFFER = "differ"  # at least one field differs
    FAILED = "failed"  # the shadow produced nothing (its mapping failed)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    fields: tuple[str, ...] = ()  # the differing fields, each once (items[*].qty)
    differences: tuple[dict[str, Any], ...] = ()  # the first few: path, live, shadow
    error: str | None = None


def _shown(difference: Difference) -> dict[str, Any]:
    """A difference as JSON: a side that lacks the field has no key."""
    shown: dict[str, Any] = {"path": difference.path or "(body)"}
    if difference.expected is not ABSENT:
        shown["live"] = difference.expected
    if difference.actual is not ABSENT:
        shown["shadow"] = difference.actual
    return shown


def judge(live: Any, shadow: Any, masks: Masks) -> Verdict:
    """Compare the shadow's output with the live one; masked fields never count."""
    found = [d for d in compare(live, shadow) if not masks.covers(d.path)]
    if not found:
        return Verdict(Outcome.MATCH)
    fields = tuple(dict.fromkeys(field_name(d.path) for d in found))
    kept = tuple(_shown(d) for d in found[:KEPT_DIFFERENCES])
    return Verdict(Outcome.DIFFER, fields, kept)


def failed(error: str) -> Verdict:
    return Verdict(Outcome.FAILED, error=error[:MAX_ERROR])
