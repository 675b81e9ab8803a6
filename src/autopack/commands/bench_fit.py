"""`autopack bench fit --cases FILE [--cap X] [--held-out]`: re-derive the estimator's constants and the edit
budget's margins from bench records (`bench/fit.py`), say which differ from the shipped ones, and
with `--held-out` score each repository with constants fitted on the others."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from autopack.adapters.package_data import estimator_params, lookup
from autopack.bench.estimator import BenchRecord, load_records, render_estimator_table
from autopack.bench.fit import (
    RESERVE_CAP,
    differences,
    fit_all,
    fitted_values,
    held_out,
    held_out_rows,
)
from autopack.commands.bench import cases_parser
from autopack.core.budget.policy import BudgetSettings


def register(kinds: Any) -> None:
    p = cases_parser(
        kinds, "fit", "fit the estimator's constants and edit margins; leave-one-repo-out check"
    )
    p.add_argument(
        "--cap",
        type=float,
        default=RESERVE_CAP,
        help=f"largest aggregate reserved:generated the edit margins may take ({RESERVE_CAP})",
    )
    p.add_argument(
        "--held-out",
        action="store_true",
        help="also score each repo with constants fitted on the other repos (slower)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = load_records(args.cases, BenchRecord)
    model = lookup(args.model)
    params, settings = estimator_params(), BudgetSettings()
    repos = sorted({r.repo for r in records})
    print(f"fitting on {len(records)} records of {len(repos)} repos ...", file=sys.stderr)
    fit = fit_all(records, params, settings, model, args.cap)
    print(json.dumps(fitted_values(fit), indent=2))
    changed = differences(fit, params, settings)
    print(f"shipped constants: {'differ in ' + ', '.join(changed) if changed else 'the same'}")
    if args.held_out:
        if len(repos) < 2:
            print("--held-out needs records of at least two repos", file=sys.stderr)
            return 2
        print(f"leave-one-repo-out: {len(repos)} fits ...", file=sys.stderr)
        h = held_out(records, params, settings, model, args.cap)
        print("\neach repo scored with constants fitted on the other repos:")
        print(render_estimator_table(held_out_rows(h), len(records)))
    return 0
