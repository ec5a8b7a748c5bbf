"""Load time: every problem of every file as ``file:line: key.path: message``; none half-built."""

from __future__ import annotations

from pathlib import Path

import pytest

from esb.mapping import load_mappings
from tests.unit.mapping.helpers import CTX, problems_of, write_folder

HEADER = "source: erp\ntarget: mes\nfields:\n"


def one_problem(root: Path, fields: str, extra: str = "", **tables: str) -> str:
    write_folder(root, {"m": HEADER + fields + extra}, tables)
    [problem] = problems_of(root)
    return problem.removeprefix(f"{root / 'mappings' / 'm.yaml'}:")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            "  a: A\n  priority:\n    path: T\n    code_table: nope\n",
            "4: fields.priority.code_table: unknown code table 'nope': define it under "
            "code_tables: or in code-tables/nope.yaml",
        ),
        (
            '  a:\n    expr: "concat(A,"\n',
            "2: fields.a.expr: bad expression 'concat(A,': the expression is incomplete",
        ),
        (
            '  a:\n    expr: "shout(A)"\n',
            "2: fields.a.expr: unknown function shout(); see docs/mappings.md for the list",
        ),
        (
            '  a:\n    const: 1\n    if: "upper(A, B)"\n',
            "3: fields.a.if: upper() takes 1 argument(s), 2 given",
        ),
        (
            "  a:\n    path: D\n    date:\n      from: yyyy-QQ-dd\n      to: yyyy\n",
            "4: fields.a.date.from: bad pattern 'yyyy-QQ-dd': pattern letter 'Q' is not "
            "supported (letters: y M d E H h m s S a X x Z; put other text in quotes, e.g. 'T')",
        ),
        (
            "  a:\n    path: D\n    datetime:\n      from: yyyyMMddHHmm\n      zone: Mars/Base\n"
            "      to: iso\n",
            "5: fields.a.datetime.zone: unknown time zone 'Mars/Base': use an IANA name such as "
            "Asia/Shanghai, or +08:00",
        ),
        (
            "  a:\n    path: D\n    datetime:\n      from: yyyyMMddHHmm\n      to: yyyy-MM-ddXXX\n",
            "5: fields.a.datetime.to: writes an offset, but the values read carry none: "
            "add zone: (e.g. Asia/Shanghai)",
        ),
        (
            "  a:\n    path: D\n    date: {from: yyyyMMddHH, to: yyyy}\n",
            "3: fields.a.date.from: date: has no time of day; use datetime: for times",
        ),
        (
            "  a:\n    path: D\n    date: {from: yyyyMM, to: yyyy}\n",
            "3: fields.a.date.from: 'yyyyMM' must contain year (yyyy), month (MM), day (dd)",
        ),
        (
            "  a:\n    path: A..B\n",
            "2: fields.a.path: bad path 'A..B': a key is missing before the dot at position 3",
        ),
        ("  a:\n    paht: A\n", "2: fields.a.paht: unknown key 'paht': did you mean 'path'?"),
        (
            "  a: {path: A, const: 1}\n",
            "1: fields.a: use one of path, const, expr, each (found path, const)",
        ),
        ("  a: {each: L}\n", "1: fields.a: each needs fields: (the fields of one output item)"),
        (
            "  a: {path: A, xref: {domain: c, from: mes}}\n",
            "1: fields.a.xref: xref from mes to itself: set from: or to:",
        ),
        (
            "  no: A\n",
            "0: fields: field name False was read as bool, not text: put it in quotes, "
            'e.g. "no": OrderNo',
        ),
        ("  a: No\n", "1: fields.a: YAML read this as false, not text: put it in quotes"),
        ("  a: A\n", None),
    ],
)
def test_load_time_problem_names_line_and_key(tmp_path: Path, fields: str, expected: str) -> None:
    if expected is None:  # the control: this one loads
        write_folder(tmp_path, {"m": HEADER + fields})
        assert load_mappings(tmp_path, {}).get("m")({"A": 1}, CTX) == {"a": 1}
        return
    line, rest = expected.split(": ", 1)
    problem = one_problem(tmp_path, fields)
    assert problem == f"{int(line) + 3}: {rest}"


def test_code_written_as_a_number_is_refused_with_a_hint(tmp_path: Path) -> None:
    extra = "code_tables:\n  t:\n    values: {01: A}\n    unknown: error\n"
    problem = one_problem(tmp_path, "  a: {path: A, code_table: t}\n", extra)
    assert problem == (
        "7: code_tables.t.values: code 1 was read as int, not text: put it in quotes, "
        'e.g. "01": NORMAL'
    )


def test_unknown_needs_a_policy_and_default_needs_unknown_default(tmp_path: Path) -> None:
    extra = "code_tables:\n  t: {values: {A: B}}\n  u: {values: {A: B}, unknown: default}\n"
    write_folder(tmp_path, {"m": HEADER + "  a: A\n" + extra})
    problems = [p.split(":", 2)[2] for p in problems_of(tmp_path)]
    assert problems == [
        " code_tables.t.unknown: missing (required)",
        " code_tables.u: unknown: default needs a default: value",
    ]


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    write_folder(
        tmp_path,
        {
            "a": HEADER + "  x: {path: X, code_table: missing}\n  y: {expr: 'nope('}\n",
            "b": "source: erp\nfields: {x: X}\n",
            "c": "source: erp\ntarget: [\n",
            "d": "",
            "good": HEADER + "  x: X\n",
        },
        {"broken": "values: {A: B}\nunknown: sometimes\n"},
    )
    (tmp_path / "mappings" / "e.yml").write_text(HEADER + "  x: X\n")
    problems = problems_of(tmp_path)
    folder = tmp_path / "mappings"
    assert [p.split(": ")[0] for p in problems] == [
        f"{tmp_path / 'code-tables' / 'broken.yaml'}:2",
        f"{folder / 'e.yml'}:1",
        f"{folder / 'a.yaml'}:4",
        f"{folder / 'a.yaml'}:5",
        f"{folder / 'b.yaml'}:1",
        f"{folder / 'c.yaml'}:3",
        f"{folder / 'd.yaml'}:1",
    ]
    assert "rename to e.yaml" in problems[1]
    assert "target: missing (required)" in problems[4]
    assert "YAML syntax" in problems[5]
    assert "the file is empty" in problems[6]


def test_a_broken_shared_table_is_reported_once_not_as_unknown(tmp_path: Path) -> None:
    write_folder(
        tmp_path,
        {"m": HEADER + "  u: {path: U, code_table: uom}\n"},
        {"uom": "values: {PCS: EA}\nunknown: maybe\n"},
    )
    first, second = problems_of(tmp_path)
    assert "code-tables" in first
    assert "unknown: must be 'error', 'default' or 'pass'" in first
    assert second.endswith("fields.u.code_table: code table 'uom' has errors (reported above)")


def test_inline_table_may_not_shadow_a_shared_one(tmp_path: Path) -> None:
    extra = "code_tables:\n  uom: {values: {PCS: PC}, unknown: pass}\n"
    problem = one_problem(
        tmp_path,
        "  u: {path: U, code_table: uom}\n",
        extra,
        uom="values: {PCS: EA}\nunknown: pass\n",
    )
    assert problem == (
        "6: code_tables.uom: code table 'uom' is also code-tables/uom.yaml: "
        "give this one another name"
    )


def test_environment_variables_are_substituted_and_unset_ones_reported(tmp_path: Path) -> None:
    write_folder(tmp_path, {"m": HEADER + "  site: {const: '${SITE}'}\n"})
    assert load_mappings(tmp_path, {"SITE": "Suzhou"}).get("m")({}, CTX) == {"site": "Suzhou"}
    [problem] = problems_of(tmp_path, {})
    assert problem.endswith("m.yaml:4: fields.site.const: environment variable SITE is not set")


def test_missing_folders_give_an_empty_set(tmp_path: Path) -> None:
    mappings = load_mappings(tmp_path, {})
    assert mappings.names() == []
    assert "anything" not in mappings
    assert len(mappings) == 0


def test_unknown_mapping_name_says_which_exist(tmp_path: Path) -> None:
    write_folder(tmp_path, {"erp-to-mes": HEADER + "  a: A\n"})
    mappings = load_mappings(tmp_path, {})
    assert "erp-to-mes" in mappings
    assert [m.name for m in mappings] == ["erp-to-mes"]
    with pytest.raises(KeyError, match=r"no mapping named 'mes' \(known: erp-to-mes\)"):
        mappings.get("mes")


def test_a_file_name_that_is_not_a_name_is_refused(tmp_path: Path) -> None:
    write_folder(tmp_path, {"has space": HEADER + "  a: A\n"})
    [problem] = problems_of(tmp_path)
    assert "the file name 'has space' is not a valid name" in problem
