"""`autopack plan SPEC`: the phase order and the waves of phases that could run in parallel."""

from __future__ import annotations

import argparse
import json
from typing import Any

from autopack.adapters.spec_file import load_spec
from autopack.core.dag import topological_order, waves


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("plan", help="show the phase order and waves")
    p.add_argument("spec", help="path of the run spec")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    order = topological_order(spec.phases)
    groups = waves(spec.phases)
    if args.json:
        print(json.dumps({"order": order, "waves": groups}, indent=2))
        return 0
    print("Order:")
    for n, pid in enumerate(order, 1):
        phase = spec.phase(pid)
        deps = f" (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
        print(f"  {n}. {pid}: {phase.title}{deps}")
    print("Waves (phases in a wave could run in parallel):")
    for n, group in enumerate(groups, 1):
        print(f"  wave {n}: {', '.join(group)}")
    return 0
