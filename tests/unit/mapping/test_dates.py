"""Date patterns in Java/ICU letters: what is written is read back, in any zone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.mapping import dates
from esb.mapping.dates import date_converter, datetime_converter, parse_zone
from esb.mapping.faults import Fault
from esb.mapping.patterns import PatternError, compile_pattern
from esb.mapping.problems import RuleError

# pattern -> what it keeps of a moment
PATTERNS = {
    "yyyy-MM-dd'T'HH:mm:ss.SSSSSS": lambda d: d,
    "yyyyMMddHHmmss": lambda d: d.replace(microsecond=0),
    "dd.MM.yyyy HH:mm:ss.SSS": lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000),
    "EEE, d MMM yyyy hh:mm:ss a": lambda d: d.replace(microsecond=0),
    "EEEE d MMMM yyyy H:m:s": lambda d: d.replace(microsecond=0),
    "y/M/d h:mm a": lambda d: d.replace(second=0, microsecond=0),
    "yyyy-MM-dd": lambda d: d.replace(hour=0, minute=0, second=0, microsecond=0),
    "iso": lambda d: d,
}
moments = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))


@given(moment=moments, pattern=st.sampled_from(sorted(PATTERNS)))
def test_what_a_pattern_writes_it_reads_back(moment: datetime, pattern: str) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.read(compiled.write(moment)) == PATTERNS[pattern](moment)


@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_two_digit_years_are_this_century(moment: datetime) -> None:
    compiled = compile_pattern("dd/MM/yy HH:mm")
    assert compiled.read(compiled.write(moment)) == moment.replace(second=0, microsecond=0)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(moment=moments, zone=offsets, letters=st.sampled_from(["XXX", "xx", "Z"]))
def test_offsets_round_trip(moment: datetime, zone: timezone, letters: str) -> None:
    compiled = compile_pattern(f"yyyy-MM-dd'T'HH:mm:ss{letters}")
    aware = moment.replace(microsecond=0, tzinfo=zone)
    back = compiled.read(compiled.write(aware))
    assert back == aware
    assert back is not None
    assert back.utcoffset() == aware.utcoffset()


@given(day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_date_rule_round_trip_through_any_pattern(day: date) -> None:
    there = date_converter("yyyy-MM-dd", "dd.MM.yyyy", "error")
    back = date_converter("dd.MM.yyyy", "yyyy-MM-dd", "error")
    assert back(there(day.isoformat())) == day.isoformat()


@given(text=st.text(max_size=20))
def test_any_text_is_a_date_or_a_fault(text: str) -> None:
    convert = date_converter("yyyyMMdd", "yyyy-MM-dd", "error")
    try:
        result = convert(text)
    except Fault:
        return
    assert date.fromisoformat(result).strftime("%Y%m%d") == text


@pytest.mark.parametrize(
    "text",
    [
        "20260229",
        "20261345",
        "20261200",
        "2026120",
        "202612055",
        "\uff12\uff10\uff12\uff16\uff11\uff12\uff10\uff15",
        "abcdefgh",
    ],
)
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(Fault, match="is not a real date written yyyyMMdd"):
        date_converter("yyyyMMdd", "yyyy-MM-dd", "error")(text)


def test_writing_letters() -> None:
    moment = datetime(2026, 3, 7, 15, 4, 5, 123456, tzinfo=UTC)
    assert compile_pattern("yy M d H h a m s S SS SSSS").write(moment) == (
        "26 3 7 15 3 PM 4 5 1 12 1234"
    )
    assert compile_pattern("X XX XXX x xx xxx Z").write(moment) == ("Z Z Z +00 +0000 +00:00 +0000")
    assert compile_pattern("MMM MMMM EEE EEEE h 'o''clock' a").write(moment) == (
        "Mar March Sat Saturday 3 o'clock PM"
    )


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("yyyy-Q", "pattern letter 'Q' is not supported"),
        ("yyy", "yyy: use y or yy or yyyy"),
        ("MMMMM", "MMMMM: use M or MM or MMM or MMMM"),
        ("hh:mm", "h (hour 1-12) needs a (AM/PM)"),
        ("yyyy'T", "a quote ' is not closed"),
        ("", "the pattern is empty"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=re.escape(message)):
        compile_pattern(pattern)


def test_daylight_saving_gaps_and_overlaps_do_not_fail() -> None:
    convert = datetime_converter(
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mmXXX", "Europe/Berlin", None, "error"
    )
    assert convert("2026-10-25 02:30") == "2026-10-25T02:30+02:00"  # the first of the two
    assert convert("2026-03-29 02:30") == "2026-03-29T02:30+01:00"  # a time that never was


def test_zones() -> None:
    assert parse_zone("+08:00").utcoffset(None) == timedelta(hours=8)
    assert parse_zone("-0530").utcoffset(None) == timedelta(hours=-5, minutes=-30)
    assert str(parse_zone("Asia/Shanghai")) == "Asia/Shanghai"
    for bad in ("Mars/Base", "../etc/passwd", "", "+25:00"):
        with pytest.raises(ValueError, match=r"time zone|out of range"):
            parse_zone(bad)


@pytest.mark.parametrize(
    ("args", "loc"),
    [
        (("yyyyMMdd'T'HHmmXXX", "iso", "Asia/Shanghai", None), ("datetime", "zone")),
        (("yyyyMMddHHmm", "iso", None, "UTC"), ("datetime", "to_zone")),
        (("yyyyMMddHHmm", "HH:mm Z", None, None), ("datetime", "to")),
        (("HH:mm", "HH:mm", None, None), ("datetime", "from")),
    ],
)
def test_zone_mistakes_are_found_at_load_time(args: tuple[str, ...], loc: tuple[str, ...]) -> None:
    source, target, zone, to_zone = args
    with pytest.raises(RuleError) as caught:
        datetime_converter(source, target, zone, to_zone, "error")
    assert caught.value.loc == loc


NUMBER_PATTERNS = [
    "yyyyMMdd",
    "dd.MM.yyyy HH:mm:ss",
    "y/M/d H:m:s",
    "{yyyy}-MM-dd'T'HH",
    "d.M.yyyy",
]


@given(moment=moments, pattern=st.sampled_from(NUMBER_PATTERNS))
def test_a_pattern_of_numbers_written_by_one_format_as_piece_by_piece(
    moment: datetime, pattern: str
) -> None:
    """The ``str.format`` fast path writes exactly what the pieces write."""
    compiled = compile_pattern(pattern)
    pieces = [w if isinstance(w, str) else w(moment) for w in compiled.writers]
    assert compiled.writer() is not None
    assert compiled.write(moment) == "".join(pieces)
    assert "format" in repr(compiled.writer())  # the fast path was taken


@given(
    texts=st.lists(
        st.sampled_from(["2026-12-07", "2026-02-30", "07.12.2026", "", "x"]) | st.text(max_size=12),
        max_size=30,
    )
)
def test_a_converter_answers_a_text_again_as_it_did_the_first_time(texts: list[str]) -> None:
    """Converters keep their results (dates repeat across documents): a value seen before
    gets the same answer, a refused one the same fault, whatever came in between."""
    for make in (
        lambda: date_converter("yyyy-MM-dd", "dd.MM.yyyy", "fail"),
        lambda: date_converter("dd.MM.yyyy", "yyyyMMdd", "pass"),
        lambda: datetime_converter("iso", "dd.MM.yyyy HH:mm:ss", "Asia/Shanghai", "UTC", "fail"),
    ):
        kept = make()
        for text in texts * 2:  # make(): a converter that has seen nothing yet
            assert answer(kept, text) == answer(make(), text), text


def answer(convert: Callable[[Any], Any], value: Any) -> Any:
    try:
        return convert(value)
    except Fault as fault:
        return ("fault", str(fault))


def test_a_converter_keeps_a_bounded_number_of_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each text is converted once while kept; past ``REMEMBERED`` texts it starts again;
    faults and values that are not text are never kept."""
    calls: list[Any] = []

    def counted(value: Any) -> Any:
        calls.append(value)
        if value == "bad":
            raise Fault("bad")
        return f"<{value}>"

    monkeypatch.setattr(dates, "REMEMBERED", 3)
    convert = dates.remembered(counted)
    for value in ["a", "b", "a", "b", "c", "a"]:
        assert convert(value) == f"<{value}>"
    assert calls == ["a", "b", "c"]
    convert("d")  # the fourth text: the kept ones are forgotten
    assert convert("a") == "<a>"
    assert calls == ["a", "b", "c", "d", "a"]
    for _ in range(2):
        with pytest.raises(Fault):
            convert("bad")
        assert convert(20261207) == "<20261207>"
    assert calls[-4:] == ["bad", 20261207, "bad", 20261207]
