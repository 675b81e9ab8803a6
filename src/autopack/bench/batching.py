"""Batching benchmark: does the writing order put a file after the files it imports from?

Records of `shared/bench/batching-dev.jsonl` (see its CONTEXT.md): a one-phase spec (deliverables in
alphabetical order) of a real commit, the commit's parent, and `edges` [A, B]: changed file A, as the
commit left it, imports B. A violation is an edge whose A comes before B in the order. The order
sees what a run sees: the spec and the files at the parent (read from the record's git bundle, which
is cloned once per bundle into a temp folder).

Strategies: ours (`deps.order`: ast imports at the parent, layers, names), ours without file contents
(layers and names only: what a plan knows of files it creates), alphabetical (the spec's order) and
"tests last, else alphabetical".
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import git
from pydantic import BaseModel, ConfigDict, Field

from autopack.adapters.baseline_cache import GitSnapshots
from autopack.bench.estimator import load_records
from autopack.core.budget.batching import MAX_BATCH_FILES
from autopack.core.budget.deps import LAYER_TEST_HELPER, Item, layer, order
from autopack.core.spec import RunSpec

Reader = Callable[[str, str], bytes | None]  # (commit, path) -> content


class BatchingRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    repo: str = ""
    bundle: str
    parent: str
    spec: RunSpec
    edges: list[tuple[str, str]]
    cyclic_edges: list[tuple[str, str]] = Field(default_factory=list)


class OrderScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    edges: int
    violations: int

    @property
    def share(self) -> float:
        return self.violations / self.edges if self.edges else 0.0


def items_at(rec: BatchingRecord, read: Reader, with_text: bool = True) -> list[Item]:
    phase = rec.spec.phases[0]
    out = []
    for d in phase.deliverables:
        data = read(rec.parent, d.old_path or d.path) if with_text else None
        text = data.decode("utf-8", "replace") if data is not None else None
        out.append(Item(path=d.path, action=d.action.value, text=text, description=d.description))
    return out


def violations(order_: Sequence[str], edges: Sequence[tuple[str, str]]) -> int:
    pos = {p: n for n, p in enumerate(order_)}
    return sum(1 for a, b in edges if a in pos and b in pos and pos[a] < pos[b])


def strategies(rec: BatchingRecord, read: Reader) -> dict[str, list[str]]:
    spec_order = [d.path for d in rec.spec.phases[0].deliverables]
    tests_last = sorted(spec_order, key=lambda p: layer(p) >= LAYER_TEST_HELPER)
    return {
        "autopack (ast at the parent)": order(items_at(rec, read)),
        "autopack (paths and names only)": order(items_at(rec, read, with_text=False)),
        "alphabetical (the spec)": spec_order,
        "tests last, else alphabetical": tests_last,
    }


def score_orders(records: Sequence[BatchingRecord], read: Reader) -> list[OrderScore]:
    totals: dict[str, int] = {}
    edges = sum(len(r.edges) for r in records)
    for rec in records:
        for name, found in strategies(rec, read).items():
            totals[name] = totals.get(name, 0) + violations(found, rec.edges)
    return [OrderScore(name=n, edges=edges, violations=v) for n, v in totals.items()]


def bundle_reader(records: Sequence[BatchingRecord], base: Path, workdir: Path) -> Reader:
    """Reads files at a commit from the records' bundles (each cloned once into `workdir`)."""
    snapshots: dict[str, GitSnapshots] = {}
    for rec in records:
        if rec.bundle not in snapshots:
            target = workdir / f"repo{len(snapshots)}.git"
            git.Repo.clone_from(str(base / rec.bundle), str(target), bare=True)
            snapshots[rec.bundle] = GitSnapshots(target)
    by_parent = {r.parent: snapshots[r.bundle] for r in records}
    return lambda commit, path: by_parent[commit].read_at(commit, path)


def bench_batching(cases: str | Path) -> list[OrderScore]:
    records = load_records(cases, BatchingRecord)
    with tempfile.TemporaryDirectory(prefix="autopack-batching-") as tmp:
        read = bundle_reader(records, Path(cases).resolve().parent, Path(tmp))
        return score_orders(records, read)


def render_batching_table(rows: Sequence[OrderScore], n: int) -> str:
    head = f"{'order (' + str(n) + ' commits)':<34} {'edges':>6} {'violations':>10} {'share':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.name:<34} {r.edges:>6} {r.violations:>10} {r.share:>7.1%}")
    lines.append(f"(batches: a phase is split above {MAX_BATCH_FILES} files or one response)")
    return "\n".join(lines)
