"""Batches of a phase's deliverables (pure): split the writing order only when needed, and check
after each batch that it does not need a name only a later batch defines.

A phase is one batch unless its estimated output exceeds what one response should hold (the
budget policy's capacity of one request) or it has more than `MAX_BATCH_FILES` deliverables. Why
8: on the dev commits (450, six projects) 95% change at most 7 files, so a split touches only the
widest phases; a batch prompt then names at most 8 files, so each turn has a short, concrete list
to finish, and the gates of a phase still see the whole phase. Batches are consecutive runs of the
writing order (`deps.order`), so a file never lands in a batch before the files it imports.

All batches are requests in the SAME conversation: batch k+1 is asked for in a user turn after
batch k's `done`, and sees what batch k wrote. After a batch, `gaps` lists each name a file of the
batch imports from a deliverable that does not define it yet (Python: by `ast`); the files that
must define them move into the next batch (the order is corrected) and the next turn names them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.budget.deps import Item, ModuleIndex, dependencies, order, python_imports

MAX_BATCH_FILES = 12
Reader = Callable[[str], bytes | None]


class PhaseLayout(BaseModel):
    """The writing order of a phase's deliverables and its batches (one when no split is needed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order: list[str]
    batches: list[list[str]] = Field(min_length=1)


def split(
    ordered: Sequence[str],
    sizes: dict[str, int],
    capacity: int,
    max_files: int = MAX_BATCH_FILES,
) -> list[list[str]]:
    """Consecutive batches of `ordered`: each at most `max_files` files and, unless a single file
    is larger, at most `capacity` estimated tokens. One batch when everything fits."""
    if not ordered:
        return [[]]
    if sum(sizes.get(p, 0) for p in ordered) <= capacity and len(ordered) <= max_files:
        return [list(ordered)]
    batches: list[list[str]] = [[]]
    load = 0
    for path in ordered:
        size = sizes.get(path, 0)
        if batches[-1] and (load + size > capacity or len(batches[-1]) >= max_files):
            batches.append([])
            load = 0
        batches[-1].append(path)
        load += size
    return batches


def layout(
    items: Sequence[Item], sizes: dict[str, int], capacity: int, max_files: int = MAX_BATCH_FILES
) -> PhaseLayout:
    ordered = order(items, dependencies(items))
    return PhaseLayout(order=ordered, batches=split(ordered, sizes, capacity, max_files))


def defined_names(text: str) -> set[str] | None:
    """Top-level names a Python module defines (def, class, assignment, import; also under
    if/try/with), or None when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep: as unparsable
        return None
    names: set[str] = set()
    body = list(tree.body)
    while body:
        node = body.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.If | ast.Try | ast.With):
            body += node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", [])
            body += [s for h in getattr(node, "handlers", []) for s in h.body]
    return names


def _text(read: Reader, path: str) -> str | None:
    data = read(path)
    return None if data is None else data.decode("utf-8", "replace")


def _missing(path: str, module: str, name: str, index: ModuleIndex, read: Reader) -> str | None:
    """The pending deliverable that should define `name` for `from module import name` (or the
    module itself, name "*") in `path` and does not yet, or None."""
    sub = index.resolve(path, f"{module}.{name}") if name != "*" else None
    if sub is not None:  # `from pkg import module`
        return sub if read(sub) is None else None
    target = index.resolve(path, module)
    if target is None:
        return None
    source = _text(read, target)
    if source is None:
        return target
    defined = defined_names(source)
    return target if name != "*" and defined is not None and name not in defined else None


def gaps(done: Sequence[str], later: Sequence[str], read: Reader) -> list[tuple[str, str, str]]:
    """(importer, name, defining path) for each name a Python file of `done` imports from a
    deliverable of `later` that does not define it yet (`read` gives current contents: a missing
    file defines nothing). The name is "*" for `import module` of a module not written yet.
    Relative imports are left to the order (deps), which resolves them the same way."""
    index = ModuleIndex(later)
    found: list[tuple[str, str, str]] = []
    for path in done:
        text = _text(read, path) if path.endswith((".py", ".pyi")) else None
        for level, module, names in python_imports(text or ""):
            for name in () if level else names or ("*",):
                target = _missing(path, module, name, index, read)
                if target is not None:
                    found.append((path, name, target))
    return found


def corrected(batches: list[list[str]], index: int, needed: Sequence[str]) -> list[list[str]]:
    """The batches with the files in `needed` moved from later batches into batch `index`."""
    move = set(needed)
    out = [list(b) for b in batches]
    for b in out[index + 1 :]:
        b[:] = [p for p in b if p not in move]
    out[index] = [p for p in out[index] if p not in move] + [
        p for b in batches[index:] for p in b if p in move
    ]
    return [b for n, b in enumerate(out) if b or n <= index]
