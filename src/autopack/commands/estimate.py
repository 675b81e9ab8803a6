"""`autopack estimate --batch FILE.jsonl`: one JSON line of output-size estimate and budget plan
per record. Reads only the input fields of a record (id, repo, goal, deliverables' path, action,
old_path, before); ground truth such as `after` or `actual` is ignored. A `before` without `tokens`
(only lines and chars) is estimated as a run does offline. `reserved_tokens` is the max_tokens of
all planned requests (`max_tokens` is the first's)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from autopack.adapters.package_data import estimator_params, lookup
from autopack.bench.estimator import EstimateRecord, load_records
from autopack.core.budget.estimator import estimate
from autopack.core.budget.policy import BudgetSettings, plan_budget
from autopack.core.modeltable import DEFAULT_MODEL


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "estimate", help="estimate output tokens and plan max_tokens for phase records"
    )
    p.add_argument("--batch", required=True, metavar="FILE", help="JSONL records (bench format)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})")
    p.add_argument(
        "--whole", action="store_true", help="plan whole-file output instead of edit ops"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = load_records(args.batch, EstimateRecord)
    model = lookup(args.model)
    settings = BudgetSettings(prefer_edit=not args.whole)
    for rec in records:
        est = estimate(rec.to_input(), estimator_params())
        plan = plan_budget(est, model, settings)
        line = {
            "id": rec.id,
            "full_file_tokens": est.full_file_tokens,
            "edit_tokens": est.edit_tokens,
            "format": plan.format,
            "max_tokens": plan.max_tokens,
            "reserved_tokens": plan.reserved_tokens,
            "requests": len(plan.requests),
        }
        sys.stdout.write(json.dumps(line) + "\n")
    return 0
