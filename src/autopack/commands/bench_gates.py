"""`autopack bench gates --repo DIR`: the test gates' cost on a real repo's last commits, replayed as
phases, with a cold and then a warm baseline cache (see autopack.bench.gates)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from autopack.bench.gates import GatesBenchConfig, render_gates_table, run_gates_bench
from autopack.commands._common import progress
from autopack.errors import AutopackError


def register(kinds: Any) -> None:
    p: argparse.ArgumentParser = kinds.add_parser(
        "gates", help="test-gate cost per phase on a real repo's commits (cold, warm cache)"
    )
    p.add_argument("--repo", required=True, help="a git checkout (its HEAD's last commits)")
    p.add_argument("--commits", type=int, default=6, help="commits to replay (default 6)")
    p.add_argument("--test-command", default="python -m pytest", help="the repo's test command")
    p.add_argument("--setup-command", default="", metavar="CMD", help="as for `autopack run`")
    p.add_argument("--no-plugin-autoload", action="store_true", help="as for `autopack run`")
    p.add_argument("--dir", help="work folder (default: a temp folder, removed)")
    p.add_argument("--verbose", action="store_true", help="print the runs' progress lines")
    p.set_defaults(func=run)


def new_folder(workdir: Path) -> Path:
    """`workdir`, created; an AutopackError when it exists or cannot be created."""
    if workdir.exists() or workdir.is_symlink():
        raise AutopackError(
            f"--dir {workdir} already exists: give a new folder (the bench fills it with clones, "
            "caches and reports)"
        )
    try:
        workdir.mkdir(parents=True)
    except OSError as exc:
        raise AutopackError(f"--dir {workdir}: cannot create the folder: {exc}") from None
    return workdir


def run(args: argparse.Namespace) -> int:
    config = GatesBenchConfig(
        commits=args.commits,
        test_command=args.test_command,
        setup_command=args.setup_command,
        plugin_autoload=not args.no_plugin_autoload,
    )
    say = progress if args.verbose else (lambda _msg: None)
    source = Path(args.repo).resolve()
    if args.dir:
        workdir = new_folder(Path(args.dir))
        print(render_gates_table(run_gates_bench(source, workdir, config, say), source, config))
        return 0
    with tempfile.TemporaryDirectory(prefix="autopack-bench-gates-") as tmp:
        print(render_gates_table(run_gates_bench(source, Path(tmp), config, say), source, config))
    return 0
