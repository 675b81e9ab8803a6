"""`autopack bench context --cases FILE`: recall of the definitions a change needs and prompt
size, with the context engine and with the deliverables only (see autopack.bench.context)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from autopack.app.compose import RunSettings
from autopack.bench.context import ContextRecord, render_details, render_table, run_bench
from autopack.bench.estimator import load_records
from autopack.commands._common import add_context_arguments, instructions_text


def register(kinds: Any) -> None:
    p: argparse.ArgumentParser = kinds.add_parser(
        "context", help="recall of needed definitions and prompt size vs deliverables only"
    )
    p.add_argument("--cases", required=True, metavar="FILE", help="JSONL records (context format)")
    p.add_argument(
        "--bundles",
        metavar="DIR",
        help="folder the records' `bundle` paths are relative to (default: the cases file's)",
    )
    p.add_argument("--model", help="model id (default: the spec's, else the built-in default)")
    p.add_argument("--details", action="store_true", help="one line per commit after the table")
    add_context_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = load_records(args.cases, ContextRecord)
    settings = RunSettings(
        run_id="bench",
        model=args.model,
        instructions=instructions_text(args.instructions),
        context_budget=args.context_budget,
    )
    folder = Path(args.bundles) if args.bundles else Path(args.cases).resolve().parent
    results = run_bench(records, folder, settings)
    print(render_table(results))
    if args.details:
        print(render_details(results))
    return 0
