"""The ranked repo map (pure): the repo's files in order of personalized PageRank over the
reference graph, each with its definitions' signatures (the closest files with their public
methods too, then top-level names only, then bare paths), cut to a token budget."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from autopack.core.context.index import RepoIndex
from autopack.core.context.rank import pagerank
from autopack.core.context.render import header, tokens
from autopack.core.context.scan import Symbol

DETAILED_SHARE = 0.45  # of the budget: entries with public methods
SIGNATURE_SHARE = 0.85  # up to here: top-level signatures; then paths only
NOTE_TOKENS = 10


def _line(text: str, sym: Symbol, indent: str) -> str:
    if sym.kind in ("var", "attr"):
        value = sym.value.split("  #")[0]
        line = f"{sym.name}{'' if value.startswith(':') else ' '}{value}"
    else:
        line = header(text, sym)[0]
    return indent + (line if len(line) <= 110 else line[:107].rstrip() + "...")


def _listed(sym: Symbol, level: int) -> bool:
    if sym.name.startswith("__"):
        return sym.kind == "def" and bool(sym.parent) and level >= 2  # __init__ and friends
    if not sym.public or sym.name.startswith("test"):
        return False
    return not sym.parent or (level >= 2 and sym.kind != "attr")


def entry(index: RepoIndex, path: str, level: int) -> str:
    """One file of the map: level 2 with public methods, 1 top-level public names, 0 the path.
    Test functions are counted, not listed."""
    scan = index.scans.get(path)
    if level == 0 or scan is None:
        return path
    text = index.text(path)
    lines = [f"{path}:"]
    tests = 0
    for sym in scan.symbols:
        if sym.name.startswith("test") and sym.kind == "def":
            tests += 1
        if _listed(sym, level):
            lines.append(_line(text, sym, "    " if sym.parent else "  "))
    if tests:
        lines.append(f"  ({tests} test{'s' if tests > 1 else ''})")
    return "\n".join(lines) if len(lines) > 1 else path


def ranked(index: RepoIndex, personal: Mapping[str, float]) -> list[str]:
    """Python files by rank (highest first, then path), then the other files by path."""
    nodes = sorted(index.scans)
    rank = pagerank(nodes, index.graph, personal)
    order = sorted(nodes, key=lambda p: (-round(rank[p], 12), p))
    return order + [p for p in index.paths if p not in index.scans]


def repo_map(
    index: RepoIndex,
    personal: Mapping[str, float],
    budget_tokens: int,
    exclude: Iterable[str] = (),
) -> str:
    """The map's text, at most `budget_tokens` long ('' when nothing fits)."""
    skip = set(exclude)
    order = [p for p in ranked(index, personal) if p not in skip]
    room = budget_tokens - NOTE_TOKENS  # what a "(N more files not listed)" line may need
    out: list[str] = []
    used = 0
    for n, path in enumerate(order):
        share = used / room if room > 0 else 1.0
        level = 2 if share < DETAILED_SHARE else 1 if share < SIGNATURE_SHARE else 0
        while level >= 0:
            text = entry(index, path, level)
            cost = tokens(text + "\n")
            if used + cost <= room:
                break
            level -= 1
        if level < 0:
            rest = len(order) - n
            if budget_tokens >= NOTE_TOKENS:
                out.append(f"({rest} more file{'s' if rest > 1 else ''} not listed)")
            break
        out.append(text)
        used += cost
    return "\n".join(out)
