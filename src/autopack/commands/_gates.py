"""The gate flags of the commands (`run`, `resume`, `demo`) and the GateSettings they make; the
finalizer itself is wired in app/compose.py."""

from __future__ import annotations

import argparse
from pathlib import Path

from autopack.adapters.baseline_cache import user_cache_dir
from autopack.adapters.pytest_runner import DEFAULT_COMMAND
from autopack.app.compose import GateSettings
from autopack.core.gates.environment import parse_allow


def _allow_names(value: str) -> tuple[str, ...]:
    try:
        return parse_allow(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_gate_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("gates (the phase finalizer)")
    g.add_argument(
        "--test-command",
        default=DEFAULT_COMMAND,
        help=f"the repo's test command; a leading 'python' is --test-python (default: {DEFAULT_COMMAND})",
    )
    g.add_argument(
        "--test-python",
        help="interpreter for the tests, or the base of the --setup-command environment "
        "(default: Autopack's own)",
    )
    g.add_argument(
        "--setup-command",
        metavar="CMD",
        help="run CMD (bash -c, in the repo root) in a virtual environment Autopack makes with "
        "pytest and pytest-json-report, e.g. \"pip install -e '.[test]'\": before the first "
        "phase, and again before a test run when the packaging files changed; the tests run in "
        "that environment",
    )
    g.add_argument(
        "--test-env",
        metavar="DIR",
        help="folder of the --setup-command environment, reused by later runs (default: OUT/test-env)",
    )
    g.add_argument(
        "--test-env-allow",
        metavar="NAMES",
        type=_allow_names,
        default=(),
        help="more environment variables the tests and the setup command see (comma or space "
        "separated, "
        "NAME or PREFIX*); by default only an allow-list (PATH, HOME, locale, PYTHON*, ...)",
    )
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
        help="folder caching test baselines by commit SHA "
        "(default: $XDG_CACHE_HOME/autopack/baselines/<repo>, per user)",
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
    cache = args.baseline_cache or str(user_cache_dir(args.repo))
    return GateSettings(
        tests=not args.no_tests,
        test_command=args.test_command,
        test_python=args.test_python,
        test_timeout_s=args.test_timeout,
        plugin_autoload=not args.no_plugin_autoload,
        baseline_cache=cache,
        lint=args.lint,
        coverage=args.coverage,
        setup_command=args.setup_command or "",
        test_env_dir=args.test_env or str(Path(args.out) / "test-env"),
        test_env_allow=args.test_env_allow,
    )
