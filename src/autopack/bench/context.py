"""`autopack bench context`: how much of what a change needs its first prompt shows, and at what
size, on records like `shared/bench/context-dev.jsonl` (scoring rules: `shared/bench/CONTEXT.md`).

Each record's repository is cloned from its bundle once and checked out at `parent`; the phase's
first request is made exactly as `autopack context` prints it (`compose.phase_request`), once with
the context engine and once with the deliverables only (context budget 0: the prompt as it was
before the engine), so the baseline is measured in the same run. A truth name counts as shown when
a printed line matches `(def|class)\\s+NAME\\b` or `^\\s*NAME\\s*[:=]`. Tokens are characters / 4 of
everything printed."""

from __future__ import annotations

import math
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import git
from pydantic import BaseModel, ConfigDict, Field

from autopack.adapters.git_workspace import GitWorkspace
from autopack.app.compose import RunSettings, phase_request
from autopack.core.spec import RunSpec

BENCH_CHARS_PER_TOKEN = 4


class TruthName(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    paths: list[str] = Field(default_factory=list)


class ContextRecord(BaseModel):
    """One commit: the spec to run at `parent` (input) and the truth names (never an input)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    repo: str
    bundle: str
    parent: str
    spec: RunSpec
    truth: list[TruthName] = Field(default_factory=list)


class Measured(BaseModel):
    """One record under one context: recall (None without truth), size, build time."""

    id: str
    recall: float | None
    missed: list[str]
    tokens: int
    seconds: float


def shown(text: str, name: str) -> bool:
    """CONTEXT.md's rule: a line with `(def|class) NAME` or starting `NAME =` / `NAME:`."""
    definition = re.compile(rf"(def|class)\s+{re.escape(name)}\b")
    binding = re.compile(rf"^\s*{re.escape(name)}\s*[:=]")
    return any(definition.search(line) or binding.match(line) for line in text.splitlines())


def measure(rec: ContextRecord, printed: str, seconds: float) -> Measured:
    missed = [t.name for t in rec.truth if not shown(printed, t.name)]
    recall = 1 - len(missed) / len(rec.truth) if rec.truth else None
    tokens = len(printed) // BENCH_CHARS_PER_TOKEN
    return Measured(id=rec.id, recall=recall, missed=missed, tokens=tokens, seconds=seconds)


@contextmanager
def checkouts(cases_dir: Path) -> Iterator[Callable[[ContextRecord], GitWorkspace]]:
    """A function giving each record's repository checked out at its parent (one clone per
    bundle, in a temp folder removed at the end)."""
    with tempfile.TemporaryDirectory(prefix="autopack-bench-context-") as tmp:
        clones: dict[str, git.Repo] = {}

        def at_parent(rec: ContextRecord) -> GitWorkspace:
            repo = clones.get(rec.bundle)
            if repo is None:
                target = Path(tmp) / f"repo{len(clones)}"
                repo = git.Repo.clone_from(str(cases_dir / rec.bundle), target, no_checkout=True)
                clones[rec.bundle] = repo
            repo.git.checkout("-q", "--force", "--detach", rec.parent)
            return GitWorkspace(str(repo.working_tree_dir))

        yield at_parent


def run_bench(
    records: Sequence[ContextRecord], cases_dir: Path, settings: RunSettings
) -> dict[str, list[Measured]]:
    """Each record with the engine (`settings`) and with the deliverables only."""
    out: dict[str, list[Measured]] = {"deliverables only": [], "context engine": []}
    baseline = settings.model_copy(update={"context_budget": 0, "instructions": ""})
    with checkouts(cases_dir) as at_parent:
        for rec in records:
            ws = at_parent(rec)
            for name, chosen in (("deliverables only", baseline), ("context engine", settings)):
                started = time.perf_counter()
                _, request = phase_request(rec.spec, ws, chosen)
                seconds = time.perf_counter() - started
                out[name].append(measure(rec, request.printed, seconds))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def render_table(results: dict[str, list[Measured]]) -> str:
    base = {m.id: m.tokens for m in results["deliverables only"]}
    rows = [
        "| context | recall | commits with truth | median tokens | p90 tokens | median growth "
        "| p90 growth | build s (median, max) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, measured in results.items():
        recalls = [m.recall for m in measured if m.recall is not None]
        sizes = [m.tokens for m in measured]
        growth = [m.tokens - base[m.id] for m in measured]
        times = [m.seconds for m in measured]
        rows.append(
            f"| {name} | {statistics.mean(recalls) if recalls else 0:.2f} | {len(recalls)} "
            f"| {statistics.median(sizes):,.0f} | {percentile(sizes, 0.9):,.0f} "
            f"| {statistics.median(growth):,.0f} | {percentile(growth, 0.9):,.0f} "
            f"| {statistics.median(times):.2f}, {max(times):.2f} |"
        )
    n = len(results["context engine"])
    return "\n".join(rows) + f"\n\n{n} commits; tokens = characters / 4 of the printed request.\n"


def render_details(results: dict[str, list[Measured]]) -> str:
    ours = results["context engine"]
    base = {m.id: m for m in results["deliverables only"]}
    lines = []
    for m in ours:
        recall = "" if m.recall is None else f" recall {m.recall:.2f} (was {base[m.id].recall:.2f})"
        missed = f" missed {', '.join(m.missed)}" if m.missed else ""
        lines.append(
            f"{m.id}: {m.tokens:,} tokens (+{m.tokens - base[m.id].tokens:,}){recall}{missed}"
        )
    return "\n".join(lines) + "\n"
