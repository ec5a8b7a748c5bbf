"""Which text encoding a dropped file is read in, decided over the whole file before any
of its rows is accepted.

A byte-order mark decides (UTF-8 as Excel's "CSV UTF-8" writes it, UTF-16, UTF-32,
GB18030) and is never part of the first row. ``encoding: auto`` then tries strict
UTF-8, then GB18030 (what Chinese Windows writes); content that is neither is refused
as a whole, never read as garbage rows. A named encoding is read as named, except
that a file that is plainly UTF-8 (its byte-order mark, or valid UTF-8 with several
non-ASCII characters) is refused rather than read as mojibake in a legacy encoding:
UTF-8 "顺丰速运" read as GB18030 is "椤轰赴閫熻繍", and both decode without an error.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from itertools import islice

__all__ = ["AUTO", "Encoding", "TextCheck", "family"]

AUTO = "auto"
AUTO_ORDER = ("utf-8", "gb18030")
BOMS = (  # UTF-32 first: its little-endian mark starts like UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (b"\x84\x31\x95\x33", "gb18030"),
)
LONGEST_BOM = 4
UNICODE = ("utf-8", "utf-16", "utf-32")
#: Non-ASCII characters after which valid UTF-8 is taken to be UTF-8: legacy Chinese
#: text that long is practically never valid UTF-8 by accident.
PLAINLY_UTF8 = 3
NON_ASCII = re.compile(r"[^\x00-\x7f]")
NUL = "\x00"


def family(encoding: str) -> str:
    """``utf-8`` for utf_8 and utf-8-sig, ``utf-16`` for UTF-16LE, ``gb18030`` for gbk..."""
    name = codecs.lookup(encoding).name
    for suffix in ("-sig", "-le", "-be"):
        name = name.removesuffix(suffix)
    return "gb18030" if name in ("gbk", "gb2312") else name


@dataclass(frozen=True)
class Encoding:
    """How a file's text is read: ``codec`` from byte ``bom`` on (the mark is skipped)."""

    codec: str
    bom: int = 0

    def __str__(self) -> str:
        return f"{self.codec} (with a byte-order mark)" if self.bom else self.codec


@dataclass
class _Candidate:
    encoding: Encoding
    decoder: codecs.IncrementalDecoder
    problem: str | None = None
    non_ascii: int = 0

    @property
    def ascii_based(self) -> bool:
        """A NUL byte is a NUL character (not so in UTF-16 and UTF-32)."""
        return family(self.encoding.codec) not in ("utf-16", "utf-32")

    def feed(self, data: bytes, offset: int, *, final: bool = False) -> None:
        if self.problem is not None:
            return
        if self.ascii_based and (nul := data.find(b"\x00")) >= 0:
            self.problem = f"NUL characters at byte {offset + nul}: not a text file"
            return
        try:
            text = self.decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            where = "the file ends inside a character" if final and not data else None
            self.problem = where or f"undecodable bytes at byte {offset + exc.start}"
            return
        if NUL in text:
            self.problem = f"NUL characters near byte {offset}: not a text file"
        elif self.non_ascii < PLAINLY_UTF8 and not text.isascii():
            self.non_ascii += sum(1 for _ in islice(NON_ASCII.finditer(text), PLAINLY_UTF8))


def _candidate(codec: str, bom: int = 0) -> _Candidate:
    return _Candidate(Encoding(codec, bom), codecs.getincrementaldecoder(codec)("strict"))


@dataclass
class TextCheck:
    """Feed it the file's bytes in order; ``finish`` says which encoding reads all of them.

    Every candidate decodes the whole file (strictly), so the verdict covers the last
    byte as well as the first.
    """

    configured: str
    _head: bytes = b""
    _offset: int = 0
    _candidates: list[_Candidate] = field(default_factory=list)
    _problem: str | None = None  # the file cannot be text in the configured encoding
    _utf8_witness: _Candidate | None = None  # a legacy encoding: is the file UTF-8 after all?

    def feed(self, chunk: bytes) -> None:
        if not self._candidates and self._problem is None:
            self._head += chunk
            if len(self._head) < LONGEST_BOM:
                return
            chunk, self._head = self._head, b""
            self._start(chunk)
        self._feed(chunk)

    def finish(self) -> tuple[Encoding | None, str | None]:
        """The encoding to read the file in, or None and why it cannot be read as text."""
        if not self._candidates and self._problem is None:
            self._start(self._head)
            self._feed(self._head)
        for candidate in self._all():
            candidate.feed(b"", self._offset, final=True)
        if self._problem is not None:
            return None, self._problem
        witness = self._utf8_witness
        if witness and witness.problem is None and witness.non_ascii >= PLAINLY_UTF8:
            return None, (
                f"the file is UTF-8 text, not {self.configured}: set `encoding: auto` "
                f"(or utf-8), or save the file as {self.configured}"
            )
        for candidate in self._candidates:
            if candidate.problem is None:
                return candidate.encoding, None
        return None, self._why_not()

    def _all(self) -> list[_Candidate]:
        witness = [self._utf8_witness] if self._utf8_witness else []
        return [*self._candidates, *witness]

    def _feed(self, chunk: bytes) -> None:
        for candidate in self._all():
            candidate.feed(chunk, self._offset)
        self._offset += len(chunk)

    def _start(self, head: bytes) -> None:
        """Choose the candidates from the first bytes (a byte-order mark, if any)."""
        auto = self.configured == AUTO
        mark = next(((bom, codec) for bom, codec in BOMS if head.startswith(bom)), None)
        if mark is not None:
            bom, codec = mark
            if auto or family(codec) == family(self.configured):
                self._candidates = [_candidate(codec, len(bom))]
            else:
                self._problem = (
                    f"the file starts with a {family(codec).upper()} byte-order mark: it is "
                    f"{family(codec).upper()} text, not {self.configured}; set `encoding: auto`"
                )
            return
        if auto:
            self._candidates = [_candidate(codec) for codec in AUTO_ORDER]
            return
        configured = family(self.configured)
        codec = "utf-8" if configured == "utf-8" else self.configured
        self._candidates = [_candidate(codec)]
        if configured not in UNICODE:
            self._utf8_witness = _candidate("utf-8")

    def _why_not(self) -> str:
        problems = [(c.encoding.codec, c.problem or "") for c in self._candidates]
        if all(problem.startswith("NUL") for _, problem in problems):
            return problems[0][1]
        if self.configured == AUTO and len(problems) > 1:
            return "neither UTF-8 nor GB18030 text: " + "; ".join(
                f"as {codec}, {problem}" for codec, problem in problems
            )
        return f"not {self.configured} text: {problems[0][1]}"
