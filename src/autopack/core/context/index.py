"""The repo's index for the context engine (pure): every Python file scanned (cached by blob
SHA), module names, a name -> definitions table and the reference graph (imports, resolved to the
files that define what is imported), built from the files the app read through the Workspace."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from autopack.core.context.modules import ModuleIndex, Resolver
from autopack.core.context.scan import FileScan, ImportRef, ScanCache, Symbol, blob_sha

REVERSE_WEIGHT = 0.3  # rank also flows from a module to its importers, weaker
_TEST_DIRS = frozenset({"tests", "test", "testing"})


@dataclass
class RepoFiles:
    """What the app read: every tracked path, and the text of the Python and instruction files."""

    paths: list[str]
    texts: dict[str, str] = field(default_factory=dict)
    shas: dict[str, str] = field(default_factory=dict)  # blob SHA of each text, when known

    def sha(self, path: str) -> str:
        known = self.shas.get(path)
        return known or blob_sha(self.texts[path].encode("utf-8", "surrogateescape"))


def is_test(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(part in _TEST_DIRS for part in path.split("/")[:-1])


class RepoIndex:
    def __init__(self, files: RepoFiles, cache: ScanCache | None = None) -> None:
        cache = cache or ScanCache()
        self.paths = sorted(files.paths)
        self.texts = files.texts
        self.scans: dict[str, FileScan] = {
            p: cache.scan(files.sha(p), files.texts[p])
            for p in sorted(files.texts)
            if p.endswith(".py")
        }
        self.tops: dict[str, dict[str, Symbol]] = {p: s.top_level() for p, s in self.scans.items()}
        self.modules = ModuleIndex(self.scans)
        self.resolver = Resolver(self.modules, self.scans, self.tops)
        self.defined: dict[str, list[tuple[str, Symbol]]] = defaultdict(list)
        for path, scan in self.scans.items():
            for sym in scan.symbols:
                if sym.kind != "attr":
                    self.defined[sym.name].append((path, sym))
        self.graph: dict[str, dict[str, float]] = {p: {} for p in self.scans}
        self.importers: dict[str, set[str]] = defaultdict(set)
        for path, scan in self.scans.items():
            for ref in scan.imports:
                for target in self.reached(path, ref):
                    if target != path:
                        self._edge(path, target)

    def _edge(self, source: str, target: str) -> None:
        self.graph[source][target] = self.graph[source].get(target, 0.0) + 1.0
        back = self.graph[target]
        back[source] = back.get(source, 0.0) + REVERSE_WEIGHT
        self.importers[target].add(source)

    def reached(self, path: str, ref: ImportRef) -> list[str]:
        """The files an import in `path` reaches: the module (or the submodules it names) and,
        for `from m import name`, the file that defines `name` when m only re-exports it."""
        out = self.modules.targets(path, ref)
        module = self.modules.absolute(path, ref)
        home = self.modules.file_of(module)
        for name, _ in ref.names:
            if home is not None and name in self.tops.get(home, {}):
                continue
            found = self.resolver.define(module, name)
            if found is not None and found.path not in out:
                out.append(found.path)
        return out

    def text(self, path: str) -> str:
        return self.texts.get(path, "")
