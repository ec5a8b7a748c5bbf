"""Read a YAML file into plain data, remembering the line of every key, and fill in ``${VARS}``.

Line numbers let every configuration error read ``file:line: key: problem``.
Variables are substituted in string values after parsing, so a value can never
change the structure of the file.

A block whose ``enabled:`` comes out false (``false``, ``no``, ``off``, ``0`` or empty, as
``${MES_DB_URL:+true}`` is when the variable is unset) is left out with everything under
it, and its variables need not be set: an optional part of a configuration (the demo's
staging-table interface, say) is switched on by setting the variable it needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]

# ${NAME}, ${NAME:-default}, ${NAME:?message}, ${NAME:+word} (word if NAME is set, else
# empty); $${ is a literal ${. A default may hold another ${NAME} (innermost first):
# ${DROP_DIR:-${ESB_DATA_DIR}/drop}
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?|:\+)([^}$]*))?\}")
#: ``enabled:`` values that switch a block off
_OFF = {"", "false", "no", "off", "0"}
_ESCAPE = "\x00esb-dollar-brace\x00"


@dataclass
class YamlDocument:
    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unset: set[Loc] = field(default_factory=set)  # values that name an unset ${VAR}
    disabled: list[Loc] = field(default_factory=list)  # blocks left out by ``enabled:``

    def is_unset(self, loc: Loc) -> bool:
        """True at or under a value whose ${VAR} is unset (its only problem is that)."""
        return any(loc[:end] in self.unset for end in range(len(loc), 0, -1))

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known key on ``loc`` (1 when nothing is known)."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1

    def where(self, loc: Loc) -> str:
        return f"{self.path}:{self.line_of(loc)}"


def format_loc(loc: Loc) -> str:
    """``("targets", "mes", "connector", "url")`` -> ``targets.mes.connector.url``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*loc, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _record_lines(item, (*loc, index), lines)


def _substitute(value: str, env: Mapping[str, str], where: str, problems: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return _ESCAPE
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if op == ":+":
            return (arg or "") if env.get(name) else ""
        if name in env and env[name] != "":
            return env[name]
        if op == ":-":
            return arg or ""
        hint = f" ({arg})" if op == ":?" and arg else ""
        problems.append(f"{where}: environment variable {name} is not set{hint}")
        return ""

    for _ in range(4):  # nested defaults resolve from the inside out
        value, count = _VAR.subn(replace, value)
        if count == 0:
            break
    return value.replace(_ESCAPE, "${")


def _switched_off(block: Any, env: Mapping[str, str]) -> bool:
    if not isinstance(block, dict) or "enabled" not in block:
        return False
    value = block["enabled"]
    if isinstance(value, str):
        value = _substitute(value, env, "", []).strip().lower()
        return value in _OFF
    return value is False or value == 0


def _walk(data: Any, loc: Loc, doc: YamlDocument, env: Mapping[str, str]) -> Any:
    if isinstance(data, dict):
        kept = {}
        for k, v in data.items():
            if _switched_off(v, env):
                doc.disabled.append((*loc, k))
                continue
            kept[k] = _walk(v, (*loc, k), doc, env)
        return kept
    if isinstance(data, list):
        return [_walk(v, (*loc, i), doc, env) for i, v in enumerate(data)]
    if isinstance(data, str) and "$" in data:
        before = len(doc.problems)
        value = _substitute(data, env, f"{doc.where(loc)}: {format_loc(loc)}", doc.problems)
        if len(doc.problems) > before:
            doc.unset.add(loc)
        return value
    return data


def _syntax_problem(path: Path, exc: yaml.MarkedYAMLError) -> str:
    """``file:line: YAML syntax: what``, and where the construct it broke began."""
    mark = exc.problem_mark
    line = mark.line + 1 if mark is not None else 1
    began = exc.context_mark.line + 1 if exc.context_mark is not None else line
    context = f" ({exc.context}, line {began})" if exc.context and began != line else ""
    return f"{path}:{line}: YAML syntax: {exc.problem or exc}{context}"


def read_yaml(path: Path, env: Mapping[str, str]) -> YamlDocument:
    """Parse ``path``; syntax errors and unset variables land in ``problems``, not exceptions."""
    doc = YamlDocument(path=path, data=None)
    try:
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return doc
            _record_lines(node, (), doc.lines)
            raw = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        doc.problems.append(_syntax_problem(path, exc))
        return doc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        doc.problems.append(f"{path}:1: cannot read: {exc}")
        return doc
    doc.data = _walk(raw, (), doc, env)
    return doc
