"""Dependencies between a phase's deliverables (pure): which file imports which, and the order to
write them in (layer 4 of the token budget; `batching.py` splits the order into batches).

- Python files are read with `ast`: `import a.b`, `from a.b import c` (c may be a module) and
  relative imports, anywhere in the file (also under `if TYPE_CHECKING:` or in a function). A
  module name is matched to a deliverable by its dotted path from the repo root, from a source
  root (`src/`, `lib/`), or from a folder that holds the importer (`import utils` in
  `tests/test_x.py` finds `tests/utils.py`, as pytest's rootdir insertion does).
- Other files, and created files (no text yet): path and name heuristics. JavaScript/TypeScript
  relative imports (`from './x'`, `require('../y')`) are matched by path; a test file depends on
  the deliverable its name tests (`test_retry.py` -> `retry.py`); a deliverable whose description
  names another deliverable's module (`uses RetryConfig from retry.py`) depends on it.
- Layers break ties (`layer`): types/config/constants/errors/compat/version modules first, then
  the other code, then entry points (`__init__.py`, `__main__.py`, `cli.py`, `setup.py`), then test
  helpers, then tests, then docs. Among equals the spec's order is kept.

`order` is a topological sort of "B before A when A imports B" that always takes the lowest
(layer, spec index) ready deliverable; a cycle is broken at its lowest (layer, index) member.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from autopack.core.budget.estimator import file_kind

SOURCE_ROOTS = ("src", "lib", "python")
_FOUNDATION = frozenset(
    {
        "types", "typing", "typedefs", "constants", "const", "consts", "config", "configuration",
        "settings", "exceptions", "errors", "enums", "compat", "compatibility", "version",
        "__version__", "__about__", "protocols", "interfaces", "defaults",
    }
)  # fmt: skip
_ENTRY = frozenset({"__init__", "__main__", "cli", "main", "setup", "manage", "wsgi", "asgi"})
_DOC_DIRS = frozenset({"doc", "docs", "documentation", "examples", "example"})
_JS_IMPORT = re.compile(r"""(?:from\s+|require\(\s*|import\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]""")
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")

LAYER_FOUNDATION, LAYER_CODE, LAYER_ENTRY, LAYER_TEST_HELPER, LAYER_TEST, LAYER_DOC = range(6)


class Item(BaseModel):
    """A deliverable as the analysis sees it: its current text (None when it does not exist)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    action: str = "modify"
    text: str | None = None
    description: str = ""


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] if not name.startswith(".") else name


def layer(path: str) -> int:
    """Where a file goes in the writing order when imports do not decide (see the docstring)."""
    kind = file_kind(path)
    parts = path.lower().split("/")
    stem = _stem(path).lower()
    if kind in ("prose", "changelog") or _DOC_DIRS & set(parts[:-1]):
        return LAYER_DOC
    if kind == "python_test":
        return (
            LAYER_TEST if stem.startswith("test_") or stem.endswith("_test") else LAYER_TEST_HELPER
        )
    if ".test." in parts[-1] or ".spec." in parts[-1] or "__tests__" in parts:
        return LAYER_TEST
    if stem.lstrip("_") in _FOUNDATION or stem in _FOUNDATION:
        return LAYER_FOUNDATION
    if stem in _ENTRY or kind == "package_init":
        return LAYER_ENTRY
    return LAYER_CODE


def module_names(path: str) -> list[tuple[str, str]]:
    """(dotted name, folder it is relative to) of each way a .py/.pyi file can be imported."""
    if not path.endswith((".py", ".pyi")):
        return []
    parts = path.rsplit(".", 1)[0].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return [(".".join(parts[i:]), "/".join(parts[:i])) for i in range(len(parts)) if parts[i:]]


class ModuleIndex:
    """Dotted module name -> deliverable paths, for resolving imports among the deliverables."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.by_name: dict[str, list[tuple[str, str]]] = {}
        self.full: dict[str, str] = {}
        for path in paths:
            names = module_names(path)
            if names:
                self.full[names[0][0]] = path
            for name, folder in names:
                self.by_name.setdefault(name, []).append((path, folder))

    def resolve(self, importer: str, name: str) -> str | None:
        """The deliverable `importer` gets for the absolute module `name`, if any."""
        folder_of_importer = importer.rsplit("/", 1)[0] if "/" in importer else ""
        for path, folder in self.by_name.get(name, []):
            if path == importer:
                continue
            if folder in ("", *SOURCE_ROOTS) or f"{folder_of_importer}/".startswith(f"{folder}/"):
                return path
        return None


def _package(importer: str) -> list[str]:
    parts = importer.rsplit(".", 1)[0].split("/")
    return parts[:-1]


@lru_cache(maxsize=64)
def python_imports(text: str) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """(level, module, imported names) of every import of a Python source; () if it does not
    parse. Cached: a run lays a phase out several times, and a large module takes seconds."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep: as unparsable
        return ()
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(0, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or "", tuple(a.name for a in node.names)))
    return tuple(found)


def _python_deps(item: Item, index: ModuleIndex) -> set[str]:
    deps: set[str] = set()
    for level, module, names in python_imports(item.text or ""):
        if level:
            base = _package(item.path)[: len(_package(item.path)) - (level - 1)]
            full = ".".join([*base, *module.split(".")] if module else base)
            candidates = [f"{full}.{n}" for n in names] + [full]
            deps |= {index.full[c] for c in candidates if c in index.full}
            continue
        heads = [f"{module}.{n}" for n in names] + [module]
        if not names:  # import a.b.c: a.b.c, else the innermost package that is a deliverable
            heads = [".".join(module.split(".")[:k]) for k in range(module.count(".") + 1, 0, -1)]
        for head in heads:
            target = index.resolve(item.path, head)
            if target is not None:
                deps.add(target)
                if not names:
                    break
    return deps


def _js_deps(item: Item, paths: set[str]) -> set[str]:
    folder = item.path.rsplit("/", 1)[0].split("/") if "/" in item.path else []
    deps = set()
    for rel in _JS_IMPORT.findall(item.text or ""):
        parts = list(folder)
        for piece in rel.split("/"):
            if piece == "..":
                parts = parts[:-1]
            elif piece not in (".", ""):
                parts.append(piece)
        base = "/".join(parts)
        for cand in (base, *(base + e for e in _JS_EXTS), *(f"{base}/index{e}" for e in _JS_EXTS)):
            if cand in paths and cand != item.path:
                deps.add(cand)
                break
    return deps


def _name_deps(item: Item, items: Sequence[Item]) -> set[str]:
    """Heuristics for what has no text to parse: the module a test file names, the deliverables
    a description names."""
    deps: set[str] = set()
    stem = _stem(item.path).lower()
    tested = stem.removeprefix("test_").removesuffix("_test")
    words = {w.lower().strip("./-") for w in _WORD.findall(item.description)}
    for other in items:
        if other.path == item.path or layer(other.path) >= LAYER_TEST_HELPER:
            continue
        other_stem = _stem(other.path).lower()
        tests_it = tested != stem and other_stem.lstrip("_") == tested.lstrip("_")
        named = len(other_stem) >= 3 and (other_stem in words or other.path.lower() in words)
        if tests_it or named:
            deps.add(other.path)
    return deps


def dependencies(items: Sequence[Item]) -> dict[str, set[str]]:
    """Deliverable -> the deliverables it needs written first."""
    index = ModuleIndex(i.path for i in items)
    paths = {i.path for i in items}
    out: dict[str, set[str]] = {}
    for item in items:
        if item.text is None or item.action == "delete":
            deps = _name_deps(item, items) if item.action != "delete" else set()
        elif item.path.endswith((".py", ".pyi")):
            deps = _python_deps(item, index)
        elif item.path.endswith(_JS_EXTS):
            deps = _js_deps(item, paths)
        else:
            deps = set()
        out[item.path] = deps - {item.path}
    return out


def _components(nodes: Sequence[str], graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each a list of nodes."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, set())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def order(items: Sequence[Item], deps: dict[str, set[str]] | None = None) -> list[str]:
    """The writing order of the deliverables (see the module docstring); each path once. Files
    that import each other (a cycle) are written together, by (layer, spec index)."""
    graph = deps if deps is not None else dependencies(items)
    paths = [i.path for i in items]
    known = set(paths)
    graph = {p: graph.get(p, set()) & known for p in paths}
    rank = {i.path: (layer(i.path), n) for n, i in enumerate(items)}
    comps = [sorted(c, key=lambda p: rank[p]) for c in _components(paths, graph)]
    comp_of = {p: n for n, c in enumerate(comps) for p in c}
    needs = {n: {comp_of[d] for p in c for d in graph[p]} - {n} for n, c in enumerate(comps)}
    remaining = set(range(len(comps)))
    placed: list[str] = []
    while remaining:
        ready = [n for n in remaining if not needs[n] & remaining]
        pick = min(ready, key=lambda n: rank[comps[n][0]])
        placed += comps[pick]
        remaining.discard(pick)
    return placed
