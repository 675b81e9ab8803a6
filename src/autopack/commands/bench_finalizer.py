"""`autopack bench finalizer`: test-gate runs and wall time per phase, ours vs re-running the
baseline for every phase (see autopack.bench.finalizer)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from autopack.bench.finalizer import BenchConfig, render_table, run_bench


def register(kinds: Any) -> None:
    p: argparse.ArgumentParser = kinds.add_parser(
        "finalizer", help="test-gate cost per phase: cached baseline vs baseline per phase"
    )
    p.add_argument("--phases", type=int, default=6, help="phases to gate (default 6)")
    p.add_argument("--files", type=int, default=8, help="generated test files (default 8)")
    p.add_argument("--tests-per-file", type=int, default=25, help="tests per file (default 25)")
    p.add_argument("--test-ms", type=float, default=2.0, help="work per test in ms (default 2)")
    p.add_argument(
        "--fail-every", type=int, default=3, help="every k-th phase adds a failure (3; 0: none)"
    )
    p.add_argument("--plugin-autoload", action="store_true", help="load every installed plugin")
    p.add_argument("--dir", help="where to generate the repo (default: a temp folder, removed)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = BenchConfig(
        phases=args.phases,
        files=args.files,
        tests_per_file=args.tests_per_file,
        test_ms=args.test_ms,
        fail_every=args.fail_every,
        plugin_autoload=args.plugin_autoload,
    )
    if args.dir:
        root = Path(args.dir) / "repo"
        root.mkdir(parents=True, exist_ok=False)
        print(render_table(run_bench(root, config), config))
        return 0
    with tempfile.TemporaryDirectory(prefix="autopack-bench-") as tmp:
        print(render_table(run_bench(Path(tmp) / "repo", config), config))
    return 0
