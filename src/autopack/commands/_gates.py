"""Wiring of the PhaseFinalizer for the commands: pytest runner, baseline cache, git snapshots,
optional ruff, from typed settings."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from autopack.adapters.baseline_cache import DirBaselineStore, GitSnapshots, MemoryBaselineStore
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.pytest_runner import DEFAULT_COMMAND, PytestRunner
from autopack.adapters.ruff_lint import RuffLinter
from autopack.app.baseline import BaselineTracker
from autopack.app.finalizer import PhaseFinalizer
from autopack.ports import BaselineStore


class GateSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tests: bool = True
    test_command: str = DEFAULT_COMMAND
    test_python: str | None = None
    test_timeout_s: float = Field(default=600.0, gt=0)
    plugin_autoload: bool = True
    baseline_cache: str | None = None  # folder; None keeps the baseline in memory for the run
    lint: bool = False
    coverage: bool = False


def build_finalizer(workspace: GitWorkspace, settings: GateSettings) -> PhaseFinalizer:
    snapshots = GitSnapshots(workspace.root)
    tracker = None
    if settings.tests:
        runner = PytestRunner(
            settings.test_command,
            python_exe=settings.test_python,
            timeout_s=settings.test_timeout_s,
            coverage=settings.coverage,
            plugin_autoload=settings.plugin_autoload,
        )
        store: BaselineStore = (
            DirBaselineStore(settings.baseline_cache)
            if settings.baseline_cache
            else MemoryBaselineStore()
        )
        tracker = BaselineTracker(runner, store, snapshots)
    return PhaseFinalizer(
        workspace.root,
        workspace,
        lambda path: snapshots.read_at("HEAD", path),
        workspace.head_sha,
        tracker=tracker,
        linter=RuffLinter() if settings.lint else None,
    )


def add_gate_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("gates (the phase finalizer)")
    g.add_argument(
        "--test-command",
        default=DEFAULT_COMMAND,
        help=f"the repo's test command; a leading 'python' is --test-python (default: {DEFAULT_COMMAND})",
    )
    g.add_argument("--test-python", help="interpreter for the tests (default: Autopack's own)")
    g.add_argument("--test-timeout", type=float, default=600.0, help="seconds per test run (600)")
    g.add_argument("--no-tests", action="store_true", help="skip the test gates")
    g.add_argument(
        "--no-plugin-autoload",
        action="store_true",
        help="load only pytest-json-report (and pytest-cov) in the test runs, not every plugin",
    )
    g.add_argument(
        "--baseline-cache",
        metavar="DIR",
        help="folder caching test baselines by commit SHA (default: OUT/baseline-cache)",
    )
    g.add_argument("--lint", action="store_true", help="warn on ruff findings in changed files")
    g.add_argument("--coverage", action="store_true", help="warn on a coverage drop (pytest-cov)")
    g.add_argument(
        "--repair-rounds",
        type=int,
        default=1,
        help="rounds in which a blocked phase's gate failures go back to the model (default 1)",
    )


def gate_settings(args: argparse.Namespace) -> GateSettings:
    cache = args.baseline_cache or str(Path(args.out) / "baseline-cache")
    return GateSettings(
        tests=not args.no_tests,
        test_command=args.test_command,
        test_python=args.test_python,
        test_timeout_s=args.test_timeout,
        plugin_autoload=not args.no_plugin_autoload,
        baseline_cache=cache,
        lint=args.lint,
        coverage=args.coverage,
    )
