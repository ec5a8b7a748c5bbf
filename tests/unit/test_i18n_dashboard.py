"""The dashboard's words all come from the catalogues: every key the page uses exists in
both languages, every key of the dashboard's namespaces is used, and no JS or HTML file
holds a sentence of its own (checked cheaply: text nodes, attributes and string literals)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import esb.dashboard
from esb.i18n import LANGUAGES, catalogue

FOLDER = Path(esb.dashboard.__file__).parent
SCRIPTS = sorted(FOLDER.glob("*.js"))
PAGE = FOLDER / "index.html"
#: The namespaces this page's own modules use (other sections bring their own).
OWN = ("page.", "tiles.", "systems.", "queries.", "charts.", "parked.", "actions.", "trace.",
       "login.", "format.")  # fmt: skip

LITERAL_KEY = re.compile(r"""\bt\(\s*["']([\w.]+)["']""")
TEMPLATE_KEY = re.compile(r"""\bt\(\s*`([\w.]+)\$\{""")
CONDITIONAL_KEY = re.compile(r"""\?\s*["']([a-z]+\.[\w.]+)["']\s*:\s*["']([a-z]+\.[\w.]+)["']""")
HTML_KEY = re.compile(r"""data-i18n="([\w.]+)\"""")
HTML_ATTR_KEYS = re.compile(r"""data-i18n-attr="([^"]+)\"""")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: A run of words as a person reads them: "Sign in", "no data", "Cannot trace".
WORDS = re.compile(r"[A-Za-z]{2,}[,;:]?\s+[A-Za-z]{2,}")
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`|\'((?:[^\'\\\n]|\\.)*)\'')
#: Where a string is code, not words: a class list (class: "muted zone").
CLASS_LIST = re.compile(r"""\b(class|className)\s*[:=]\s*$""")
#: ... or a CSS selector ("#parked tr[data-delivery=...]").
SELECTOR = re.compile(r"^[#.]|\[[\w-]+=")


def _outside_placeholders(template: str) -> str:
    """A template literal without its ${...} parts (code, not text)."""
    out, depth, i = [], 0, 0
    while i < len(template):
        if template.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if depth and template[i] == "{":
            depth += 1
        elif depth and template[i] == "}":
            depth -= 1
        elif not depth:
            out.append(template[i])
        i += 1
    return "".join(out)


def _code(path: Path) -> str:
    """The file without its comments (comments may say anything)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"(^|\s)//.*$", "", line) for line in text.splitlines())


def _used() -> tuple[set[str], set[str]]:
    """Keys the page names literally, and prefixes of keys it builds (t(`tiles.status.${s}`))."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in SCRIPTS:
        code = _code(path)
        keys |= set(LITERAL_KEY.findall(code))
        prefixes |= set(TEMPLATE_KEY.findall(code))
        keys |= {key for pair in CONDITIONAL_KEY.findall(code) for key in pair}
    html = PAGE.read_text(encoding="utf-8")
    keys |= set(HTML_KEY.findall(html))
    for pairs in HTML_ATTR_KEYS.findall(html):
        keys |= {pair.split(":", 1)[1].strip() for pair in pairs.split(";") if ":" in pair}
    keys.add("page.title")  # document.title, set by translatePage
    return keys, prefixes


def test_every_key_the_page_uses_is_in_both_catalogues() -> None:
    keys, prefixes = _used()
    assert len(keys) > 100, "the patterns no longer find the page's keys"
    for lang in LANGUAGES:
        words = catalogue(lang)
        assert sorted(k for k in keys if k not in words) == [], lang
        assert sorted(p for p in prefixes if not any(k.startswith(p) for k in words)) == [], lang


def test_every_key_of_the_pages_namespaces_is_used() -> None:
    keys, prefixes = _used()
    own = [k for k in catalogue("en") if k.startswith(OWN)]
    unused = [k for k in own if k not in keys and not any(k.startswith(p) for p in prefixes)]
    assert unused == []


def test_no_script_holds_a_sentence_or_chinese_of_its_own() -> None:
    found = []
    for path in SCRIPTS:
        for number, line in enumerate(_code(path).splitlines(), 1):
            if CJK.search(line) and "中文" not in line:  # the switch names Chinese in Chinese
                found.append(f"{path.name}:{number}: {line.strip()}")
            for match in STRING.finditer(line):
                value = _outside_placeholders(next(g for g in match.groups() if g is not None))
                code = CLASS_LIST.search(line[: match.start()]) or SELECTOR.search(value)
                if WORDS.search(value) and not code:
                    found.append(f"{path.name}:{number}: {value}")
    assert found == []


class _Texts(HTMLParser):
    """Text nodes and person-read attributes outside <title>, <code>, <script> and <style>;
    an element with data-i18n may keep a fallback text (the catalogue's replaces it)."""

    SKIP = {"title", "code", "script", "style", "translated"}
    READ = {"title", "aria-label", "placeholder", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"meta", "link", "input", "br", "img"}:
            self.open.append("translated" if "data-i18n" in dict(attrs) else tag)
        for name, value in attrs:
            if name in self.READ and value and WORDS.search(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if self.open:  # the page's tags are balanced: the last one opened closes
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not self.SKIP & set(self.open):
            self.found.append(data.strip())


def test_the_page_holds_no_text_of_its_own() -> None:
    texts = _Texts()
    texts.feed(PAGE.read_text(encoding="utf-8"))
    assert texts.found == []
