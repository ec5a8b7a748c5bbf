"""Text from outside, bounded before it is shown in a fault, a log line or a report.

A request of a megabyte can make a validator say ninety thousand things, each quoting
what it was sent; whoever reads the answer needs the first few, short, and how many
more there were. Used by the SOAP endpoint and the file drop alike.
"""

from __future__ import annotations

__all__ = ["MAX_LISTED", "MAX_SHOWN", "more", "shorten"]

#: Problems listed one by one in a fault, a log line or a file report's row.
MAX_LISTED = 20
#: Characters of one shown text (a reason, a field path, a value quoted in a reason).
MAX_SHOWN = 300


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` as it is, or its start and how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def more(listed: int, total: int) -> str:
    """`` (and 12 more)`` when ``total`` goes beyond what was ``listed``."""
    return f" (and {total - listed} more)" if total > listed else ""
