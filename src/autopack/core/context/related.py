"""The files a phase most likely needs besides its deliverables (pure): definitions the
deliverables import or use (resolved with `ast` and the index), the files earlier phases changed,
tests and conftest fixtures, callers, and for a file to be created what its neighbours in the
folder use. Each candidate gets a score and the names it should show."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from autopack.core.context.index import RepoIndex, is_test
from autopack.core.context.modules import LOW_PRIORITY
from autopack.core.context.render import header
from autopack.core.context.scan import ImportRef
from autopack.core.context.uses import Uses, goal_identifiers, python_uses

W_EARLIER = 120.0  # created or changed by an earlier phase of the run
W_IMPORT = 100.0  # defines a name a deliverable imports
W_MODULE = 60.0  # a module a deliverable imports
W_CONFTEST = 70.0  # fixtures of a test deliverable
W_TEST = 50.0  # a test that imports a deliverable
W_CALLER = 30.0  # another module that imports a deliverable
W_NAME = 40.0  # defines a name a deliverable uses (by name only), split among its definers
W_ATTRIBUTE = 10.0  # defines an attribute name a deliverable reads (`obj.name`), split likewise
W_GOAL = 45.0  # defines a name the phase's goal mentions
W_STEM = 15.0  # a module the goal names by its file name ("the planner"), or a new test's subject
W_SIGNATURE = 25.0  # defines a type or constant named in the signature of a needed definition
W_NEIGHBOUR = 0.5  # factor for what a created file's folder neighbours use
MAX_DEFINERS = 3  # a name defined in more files than this says little
MAX_NEIGHBOURS = 6


@dataclass
class Candidate:
    path: str
    score: float = 0.0
    needed: set[str] = field(default_factory=set)
    reasons: set[str] = field(default_factory=set)
    whole_module: bool = False  # every public name is relevant (`from m import *`, a fixture file)


@dataclass(frozen=True)
class Focus:
    """What a phase works on: (path, action) of each deliverable, its text (title, goal,
    descriptions) and the files earlier phases of the run changed."""

    deliverables: tuple[tuple[str, str], ...]
    text: str = ""
    earlier: tuple[str, ...] = ()

    @property
    def paths(self) -> set[str]:
        return {p for p, _ in self.deliverables}


class _Collector:
    def __init__(self, index: RepoIndex, focus: Focus) -> None:
        self.index = index
        self.skip = focus.paths
        self.found: dict[str, Candidate] = {}
        # Names a deliverable defines itself are its own, not something to look up elsewhere.
        self.own = {s.name for p in self.skip if p in index.scans for s in index.scans[p].symbols}

    def add(self, path: str | None, weight: float, reason: str, names: Iterable[str] = ()) -> None:
        if path is None or path in self.skip:
            return
        c = self.found.setdefault(path, Candidate(path))
        c.score += weight
        c.needed.update(names)
        c.reasons.add(reason)

    def uses(self, path: str, uses: Uses, factor: float = 1.0) -> None:
        """Everything one (existing or neighbouring) file uses."""
        modules = self.index.modules
        aliases = uses.imported_aliases()
        for ref in uses.imports:
            self._import(path, ref, aliases, uses, factor)
        for name in sorted(uses.names):
            self._by_name(name, W_NAME * factor, "uses")
        for name in sorted(uses.attributes - uses.names):
            self._by_name(name, W_ATTRIBUTE * factor, "uses")
        for alias, attr in sorted(uses.module_attributes):
            if alias not in aliases:
                continue
            module = modules.absolute(path, aliases[alias])
            found = self.index.resolver.define(module, attr)
            if found is not None:
                self.add(found.path, W_IMPORT * factor, "imported", [attr] if found.symbol else [])

    def _import(
        self, path: str, ref: ImportRef, aliases: dict[str, ImportRef], uses: Uses, factor: float
    ) -> None:
        modules = self.index.modules
        module = modules.absolute(path, ref)
        home = modules.file_of(module)
        if ref.star:
            self.add(home, W_IMPORT * factor, "imported")
            if home in self.found:
                self.found[home].whole_module = True
            return
        if not ref.is_from:
            self.add(home, W_MODULE * factor, "imported")
            return
        for name, _ in ref.names:
            found = self.index.resolver.define(module, name)
            if found is None:
                continue
            names = [name] if found.symbol is not None else []
            self.add(found.path, W_IMPORT * factor, "imported", names)

    def _by_name(self, name: str, weight: float, reason: str) -> None:
        if name in self.own:
            return
        definers = sorted({p for p, _ in self.index.defined.get(name, ())} - self.skip)
        if 0 < len(definers) <= MAX_DEFINERS:
            for p in definers:
                self.add(p, weight / len(definers), reason, [name])


def _neighbours(index: RepoIndex, path: str, skip: set[str]) -> list[str]:
    """Python files in the folder of a file to be created (closest names first)."""
    folder = path.rpartition("/")[0]
    stem = path.rsplit("/", 1)[-1]
    near = [
        p
        for p in index.scans
        if p.rpartition("/")[0] == folder and p not in skip and not p.endswith("__init__.py")
    ]

    def closeness(p: str) -> tuple[int, str]:
        return -len(_prefix(p.rsplit("/", 1)[-1], stem)), p

    return sorted(near, key=closeness)[:MAX_NEIGHBOURS]


def _prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _conftests(index: RepoIndex, path: str) -> list[str]:
    parts = path.split("/")[:-1]
    out = []
    for depth in range(len(parts), -1, -1):
        candidate = "/".join([*parts[:depth], "conftest.py"])
        if candidate in index.scans:
            out.append(candidate)
    return out


def candidates(index: RepoIndex, focus: Focus) -> list[Candidate]:
    """Candidate files, best first (score, then path)."""
    c = _Collector(index, focus)
    for path in focus.earlier:
        c.add(path if path in index.texts else None, W_EARLIER, "earlier phase")
        if path in c.found:
            c.found[path].whole_module = True
    for path, action in focus.deliverables:
        if not path.endswith(".py"):
            continue
        if action != "create" and path in index.texts:
            c.uses(path, python_uses(index.text(path)))
            _callers(c, index, path)
        elif action == "create":
            for near in _neighbours(index, path, focus.paths):
                c.uses(near, python_uses(index.text(near)), W_NEIGHBOUR)
                c.add(near, W_MODULE * W_NEIGHBOUR, "neighbour")
        if is_test(path):
            for conf in _conftests(index, path):
                c.add(conf, W_CONFTEST, "fixtures")
                c.found[conf].whole_module = True
    for name in sorted(goal_identifiers(focus.text)):
        c._by_name(name, W_GOAL, "goal")
    _stems(c, index, focus)
    _signature_types(c, index)
    return sorted(c.found.values(), key=lambda x: (-x.score, x.path))


_CAPITALISED = re.compile(r"\b_?[A-Z]\w+\b")


def _signature_types(c: _Collector, index: RepoIndex) -> None:
    """The types and constants in the signatures of what the deliverables import (a function
    taking a `RunTelemetry` needs it to be called), found through that file's own imports."""
    for cand in [x for x in c.found.values() if x.score >= W_IMPORT and x.needed]:
        scan, text = index.scans.get(cand.path), index.text(cand.path)
        if scan is None:
            continue
        tops = index.tops.get(cand.path, {})
        imported = {alias: ref for ref in scan.imports for _, alias in ref.names}
        words: set[str] = set()
        for name in sorted(cand.needed):
            sym = tops.get(name)
            if sym is not None and sym.kind in ("def", "class"):
                words |= set(_CAPITALISED.findall(header(text, sym)[0])) - {name}
        for word in sorted(words):
            if word in tops:
                cand.needed.add(word)
            elif word in imported:
                ref = imported[word]
                original = next(o for o, a in ref.names if a == word)
                module = index.modules.absolute(cand.path, ref)
                found = index.resolver.define(module, original)
                if found is not None and found.symbol is not None:
                    c.add(found.path, W_SIGNATURE, "in a signature", [original])


def _stems(c: _Collector, index: RepoIndex, focus: Focus) -> None:
    """Modules named by a word of the goal ("the planner") or by a new test file's name
    (`test_executor_events.py`: executor, events)."""
    by_stem: dict[str, list[str]] = defaultdict(list)
    for path in index.scans:
        stem = path.rsplit("/", 1)[-1].removesuffix(".py")
        if len(stem) >= 4 and not is_test(path) and stem != "__init__":
            by_stem[stem].append(path)
    words = set(re.findall(r"[a-z][a-z0-9_]{3,}", focus.text.lower()))
    for path, action in focus.deliverables:
        stem = path.rsplit("/", 1)[-1].removesuffix(".py")
        if action == "create" and is_test(path):
            words |= {stem.removeprefix("test_"), *stem.removeprefix("test_").split("_")}
    for word in sorted(words):
        files = by_stem.get(word, [])
        if 0 < len(files) <= MAX_DEFINERS:
            for path in files:
                c.add(path, W_STEM, "named in the goal")
    for mention in sorted(set(re.findall(r"[\w./-]+\.py\b", focus.text))):
        for path in (p for p in index.scans if p == mention or p.endswith("/" + mention)):
            c.add(path, W_GOAL, "named in the goal")


def _callers(c: _Collector, index: RepoIndex, path: str) -> None:
    """Modules importing the deliverable and tests importing it (each weighed down when there are
    many: a module everything imports says little about any one of them), tests named after it."""
    importers = sorted(index.importers.get(path, ()))
    tests = [p for p in importers if is_test(p)]
    callers = [p for p in importers if not is_test(p)]
    for group, weight in ((tests, W_TEST), (callers, W_CALLER)):
        share = weight / math.sqrt(len(group)) if group else 0.0
        for importer in group:
            low = importer.startswith(LOW_PRIORITY)
            c.add(importer, share / 2 if low else share, "imports a deliverable")
    if is_test(path):
        return
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    for name in (f"test_{stem}.py", f"{stem}_test.py"):
        for test in sorted(p for p in index.scans if p.rsplit("/", 1)[-1] == name):
            c.add(test, W_TEST, "tests a deliverable")
