"""How the name of a dropped file is shown: in the log, in its report and in the ledger.

On Linux a file name is bytes. One written through a Windows share by a Chinese system
is often GBK, which is not UTF-8, so Python holds it with lone surrogates
(``os.fsdecode``) that no JSON log line, JSON report or PostgreSQL column can carry.
The file itself is always reached by its real name; people and the store get a
readable one: UTF-8 as it is, else GB18030 (which covers GBK), else the bytes escaped
(``\\xff``); control characters are escaped in all of them (``\\n``), and a name
escaped that much is shortened to fit the ledger's column.
"""

from __future__ import annotations

import os
import unicodedata

from esb.sdk import shorten

__all__ = ["has_control_characters", "on_disk", "readable"]

LEGACY = "gb18030"
#: Characters of a shown name: 255 bytes escaped as ``\xff`` would be 1,020, and the
#: ledger's ``name`` column holds 500.
MAX_SHOWN_NAME = 400
#: Control and format characters, line and paragraph separators, surrogates: never shown
#: as they are (a line break would split a log line, U+202E would reverse the text).
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _hidden(c: str) -> bool:
    return not c.isprintable() and unicodedata.category(c) in HIDDEN


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c.encode("unicode_escape").decode() if _hidden(c) else c for c in text)


def readable(name: str) -> str:
    """``name`` as a person reads it, holding only characters every store can keep."""
    raw = os.fsencode(name)
    for codec in ("utf-8", LEGACY):
        try:
            return shorten(_printable(raw.decode(codec)), MAX_SHOWN_NAME)
        except UnicodeDecodeError:
            continue
    return shorten(_printable(raw.decode("utf-8", "backslashreplace")), MAX_SHOWN_NAME)


def on_disk(name: str) -> str | None:
    """The real name, its bytes escaped, when ``readable`` shows it otherwise; else None."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _printable(raw.decode("utf-8", "backslashreplace"))
    return None if _printable(text) == text else _printable(text)


def has_control_characters(name: str) -> bool:
    """A line break, tab or other control character: such names are set aside, not read.
    (Bytes that are not UTF-8 are not control characters: those files are read.)"""
    return any(_hidden(c) and not "\udc80" <= c <= "\udcff" for c in name)
