"""`autopack bench KIND --cases FILE`: benchmarks on recorded cases.

Each kind is one entry of `BENCH_KINDS`: a name mapped either to a function here or to the dotted
path of a module exposing `register(kinds)`; either adds the kind's parser to the `kinds`
sub-parsers with `set_defaults(func=...)`, func(args) -> exit code. A new kind is one entry, e.g.
`"finalizer": "autopack.commands.bench_finalizer"`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from autopack.adapters.package_data import lookup
from autopack.bench.estimator import (
    BenchRecord,
    bench_estimator,
    load_records,
    render_estimator_table,
)
from autopack.bench.policy import SimConfig, bench_policy, cache_saving, render_policy_table
from autopack.bench.policy_table import render_cache_lines
from autopack.core.modeltable import DEFAULT_MODEL

Registrar = Callable[[Any], None]


def cases_parser(kinds: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = kinds.add_parser(name, help=help_text)
    p.add_argument("--cases", required=True, metavar="FILE", help="JSONL records (bench format)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})")
    return p


def _register_estimator(kinds: Any) -> None:
    p = cases_parser(kinds, "estimator", "estimator error vs baselines (full-file and edit)")
    p.set_defaults(func=_run_estimator)


def _run_estimator(args: argparse.Namespace) -> int:
    records = load_records(args.cases, BenchRecord)
    results = bench_estimator(records, lookup(args.model))
    print(render_estimator_table(results, len(records)))
    return 0


def _register_policy(kinds: Any) -> None:
    p = cases_parser(kinds, "policy", "simulate budget policies: cost, requests, failures")
    p.add_argument("--max-output", type=int, default=64_000, help="max output tokens (64000)")
    p.set_defaults(func=_run_policy)


def _run_policy(args: argparse.Namespace) -> int:
    records = load_records(args.cases, BenchRecord)
    cfg = SimConfig(model=args.model, max_output=args.max_output)
    print(render_policy_table(bench_policy(records, cfg), len(records)))
    print()
    print(render_cache_lines(cache_saving(records, cfg)))
    return 0


def _register_batching(kinds: Any) -> None:
    p: argparse.ArgumentParser = kinds.add_parser(
        "batching", help="writing order vs the import edges of real commits"
    )
    p.add_argument("--cases", required=True, metavar="FILE", help="JSONL records (batching format)")
    p.set_defaults(func=_run_batching)


def _run_batching(args: argparse.Namespace) -> int:
    from autopack.bench.batching import BatchingRecord, bench_batching, render_batching_table

    rows = bench_batching(args.cases)
    print(render_batching_table(rows, len(load_records(args.cases, BatchingRecord))))
    return 0


BENCH_KINDS: dict[str, Registrar | str] = {
    "estimator": _register_estimator,
    "policy": _register_policy,
    "batching": _register_batching,
    "finalizer": "autopack.commands.bench_finalizer",
    "context": "autopack.commands.bench_context",
    "gates": "autopack.commands.bench_gates",
    "fit": "autopack.commands.bench_fit",
}


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("bench", help="run a benchmark on recorded cases")
    kinds = p.add_subparsers(dest="bench_kind", metavar="KIND")
    for entry in BENCH_KINDS.values():
        if isinstance(entry, str):
            importlib.import_module(entry).register(kinds)
        else:
            entry(kinds)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)
