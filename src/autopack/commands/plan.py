"""`autopack plan SPEC [--repo DIR]`: the phase order and the waves of phases that could run in
parallel, and for each phase the writing order of its deliverables (a file after the files it
imports from: Python imports read from the files in `--repo`; without it, paths and names only) and
its batches (one unless the phase is too large for one response or has more than 12 files)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.package_data import estimator_params, lookup
from autopack.adapters.spec_file import load_spec
from autopack.core.budget.phase import budget_phase
from autopack.core.dag import topological_order, waves
from autopack.core.modeltable import DEFAULT_MODEL
from autopack.core.spec import RunSpec


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("plan", help="show the phase order and waves")
    p.add_argument("spec", help="path of the run spec")
    p.add_argument("--repo", metavar="DIR", help="the checkout the spec runs on (file contents)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def phase_layouts(spec: RunSpec, order: list[str], repo: str | None) -> list[dict[str, Any]]:
    """Per phase (in run order): its id, the writing order and the batches."""
    read = GitWorkspace(repo).read if repo else (lambda _path: None)
    model, params = lookup(spec.model or DEFAULT_MODEL, warn=False), estimator_params()
    by_id = {p.id: p for p in spec.phases}  # not spec.phase(): a scan per phase
    out = []
    for pid in order:
        found = budget_phase(by_id[pid], read, model, params)
        out.append({"id": pid, "order": found.layout.order, "batches": found.layout.batches})
    return out


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    order = topological_order(spec.phases)
    groups = waves(spec.phases)
    phases = phase_layouts(spec, order, args.repo)
    if args.json:
        print(json.dumps({"order": order, "waves": groups, "phases": phases}, indent=2))
        return 0
    print("Order:")
    by_id = {p.id: p for p in spec.phases}
    for n, pid in enumerate(order, 1):
        phase = by_id[pid]
        deps = f" (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
        print(f"  {n}. {pid}: {phase.title}{deps}")
    print("Waves (phases in a wave could run in parallel):")
    for n, group in enumerate(groups, 1):
        print(f"  wave {n}: {', '.join(group)}")
    print("Deliverables (writing order; batches):")
    for p in phases:
        if not p["order"]:
            print(f"  {p['id']}: (none)")
        elif len(p["batches"]) == 1:
            print(f"  {p['id']}: {', '.join(p['order'])}")
        else:
            print(f"  {p['id']}: {len(p['batches'])} batches")
            for n, batch in enumerate(p["batches"], 1):
                print(f"    batch {n}: {', '.join(batch)}")
    return 0
