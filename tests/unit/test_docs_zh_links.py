"""The Chinese operator's guide (docs/zh/) leads somewhere: every relative link names a file
that exists and, with a ``#fragment``, a heading of that file (the anchor GitHub makes of
it). The guide points into English pages that other work renames and re-heads; a broken
link is found here rather than by a reader in the factory."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "zh"
PAGES = sorted(GUIDE.glob("*.md"))

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:


def prose(text: str) -> list[tuple[int, str]]:
    """Numbered lines outside fenced code blocks: a link in an example is not a link."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text in lower case, punctuation and symbols
    dropped (CJK characters stay), spaces turned into hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for _, line in prose(page.read_text(encoding="utf-8")):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading[1])
            found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
            seen[base] += 1
    return found


def links(page: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in prose(page.read_text(encoding="utf-8")):
        found += [(number, target) for target in LINK.findall(CODE_SPAN.sub("", line))]
    return found


def broken(page: Path, target: str) -> str | None:
    """Why a relative link of ``page`` leads nowhere, or None when it is fine."""
    path, _, fragment = target.partition("#")
    goal = (page.parent / unquote(path)).resolve() if path else page
    if not goal.exists():
        return f"no file {goal.relative_to(ROOT) if goal.is_relative_to(ROOT) else goal}"
    if fragment and goal.suffix == ".md" and unquote(fragment) not in anchors(goal):
        return f"no heading with the anchor #{unquote(fragment)} in {goal.name}"
    return None


def test_the_guide_has_its_pages() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "getting-started.md", "dashboard.md"} <= names, names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    problems = [
        f"{page.name}:{number}: {target}: {why}"
        for number, target in links(page)
        if not EXTERNAL.match(target) and (why := broken(page, target)) is not None
    ]
    assert problems == [], "\n".join(problems)


def test_the_index_lists_every_page() -> None:
    listed = {target.partition("#")[0] for _, target in links(GUIDE / "README.md")}
    missing = [page.name for page in PAGES if page.name != "README.md" and page.name not in listed]
    assert missing == [], f"docs/zh/README.md does not list {missing}"


def test_the_main_readme_points_at_the_guide() -> None:
    targets = {target for _, target in links(ROOT / "README.md")}
    assert "docs/zh/README.md" in targets


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Parked deliveries: find, fix, replay", "parked-deliveries-find-fix-replay"),
        ("Master data — `/v1/xref` (admin key)", "master-data--v1xref-admin-key"),
        ("A target that is the cross-reference: `kind: xref` (master-data sync)",
         "a-target-that-is-the-cross-reference-kind-xref-master-data-sync"),
        ("重放与更正", "重放与更正"),
        ("一致性检查：交叉引用和各系统对得上吗", "一致性检查交叉引用和各系统对得上吗"),  # noqa: RUF001
    ],
)  # fmt: skip
def test_anchors_are_made_as_github_makes_them(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# 标题\n\n[有](#标题) [无](#没有) [文件](nothing.md)\n", encoding="utf-8")
    assert broken(page, "#标题") is None
    assert broken(page, "#没有") == "no heading with the anchor #没有 in page.md"
    assert (broken(page, "nothing.md") or "").startswith("no file")
