"""Text of the context (pure): a definition's signature (its def/class header on one line and its
docstring's first line), a file's outline (selected definitions in file order, methods under
their class) and the size of any of it in tokens."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from autopack.core.context.scan import FileScan, Symbol

CHARS_PER_TOKEN = 3.6  # the estimator's conversion for prompt text (Claude tokens, roughly)
MAX_HEADER_CHARS = 800
MAX_LINE_CHARS = 160
_SPACES = re.compile(r"\s+")
_SIMPLE_HEADER = re.compile(r"[^\n#]*:[ \t]*(?:#[^\n]*)?(?=\n|\Z)")
_DOC = re.compile(r"\s*[rRuUbB]{0,2}(\"\"\"|'''|\"|')")


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _clip(line: str, limit: int = MAX_LINE_CHARS) -> str:
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def _header_end(text: str, offset: int) -> int:
    """Index just past the colon ending the def/class header at `offset` (strings, comments and
    brackets skipped); the end of the first line when none is found nearby."""
    quick = _SIMPLE_HEADER.match(text, offset)
    if quick is not None:
        head = quick.group(0)
        if head.count("(") == head.count(")") and head.count("[") == head.count("]"):
            return offset + head.rindex(":", 0, len(head.split("#")[0]) or None) + 1
    depth, i, quote = 0, offset, ""
    end = min(len(text), offset + MAX_HEADER_CHARS)
    while i < end:
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif c in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            i += len(quote) - 1
        elif c == "#":
            nl = text.find("\n", i)
            i = end if nl < 0 else nl - 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ":" and depth <= 0:
            return i + 1
        i += 1
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl


def header(text: str, sym: Symbol) -> tuple[str, int]:
    """The def/class header of `sym` on one line (without its colon), and where it ends."""
    end = _header_end(text, sym.offset)
    raw = text[sym.offset : end].strip().removesuffix(":")
    # A multi-line signature joined: no space inside its brackets, no trailing comma before the
    # closing one (a tuple's own comma, `(object,)`, had no line break and stays).
    one = _SPACES.sub(" ", raw).replace("( ", "(").replace(", )", ")").replace(" )", ")")
    return one, end


def doc_line(text: str, start: int) -> str:
    """The first non-empty line of the docstring that starts at `start` (after a header)."""
    m = _DOC.match(text, start)
    if m is None:
        return ""
    quote = m.group(1)
    close = text.find(quote, m.end())
    body = text[m.end() : close if close >= 0 else m.end() + 400]
    for line in body.splitlines():
        if line.strip():
            return _clip(line.strip(), 120)
    return ""


def signature(text: str, sym: Symbol, *, doc: bool = False, indent: str = "") -> str:
    """One definition as the outline shows it: `def f(x) -> int: ...` (with the docstring's first
    line under it when `doc`), `class C(Base):`, or `NAME = value` / `NAME: T = value`."""
    if sym.kind in ("var", "attr"):
        value = sym.value.split("  #")[0]
        return indent + _clip(f"{sym.name}{'' if value.startswith(':') else ' '}{value}")
    head, end = header(text, sym)
    head = _clip(head, 240)
    line = doc_line(text, end) if doc else ""
    if sym.kind == "class":
        return f"{indent}{head}:" + (f'\n{indent}    """{line}"""' if line else "")
    if line:
        return f'{indent}{head}:\n{indent}    """{line}"""'
    return f"{indent}{head}: ..."


def outline(
    text: str,
    scan: FileScan,
    chosen: Iterable[Symbol],
    *,
    doc: bool = True,
) -> str:
    """The chosen definitions in file order; a chosen method brings its class header."""
    wanted = set(chosen)
    classes = {s.parent for s in wanted if s.parent}
    lines: list[str] = []
    for sym in scan.symbols:
        if sym.parent:
            if sym in wanted:
                lines.append(signature(text, sym, doc=doc and sym.kind == "def", indent="    "))
        elif sym in wanted or (sym.kind == "class" and sym.name in classes):
            lines.append(signature(text, sym, doc=doc))
    return "\n".join(lines)
