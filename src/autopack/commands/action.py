"""`autopack action`: the GitHub Action's entry point (the image's default command; see
action.yml). Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, INPUT_*, GITHUB_API_URL, GITHUB_REPOSITORY and
GITHUB_WORKSPACE; writes $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. Exits with the codes of
action/exit_codes.py; SIGTERM or SIGINT cancels the run (action/cancel.py) and exits 128 + the
signal's number (143, 130) after the final word."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "action", help="run as the GitHub Action (reads the environment GitHub sets)"
    )
    p.add_argument(
        "--no-throttle",
        action="store_true",
        help="do not pace GitHub API calls (PyGithub waits between writes by default); for tests",
    )
    p.set_defaults(func=run)


def safe_directory_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Git settings for every git this process starts: the runner mounts $GITHUB_WORKSPACE owned
    by another user, so git needs it marked `safe.directory` (as `git -c` would; no global config
    is written)."""
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if not workspace:
        return {}
    n = int(environ.get("GIT_CONFIG_COUNT", "0") or "0")
    return {
        "GIT_CONFIG_COUNT": str(n + 1),
        f"GIT_CONFIG_KEY_{n}": "safe.directory",
        f"GIT_CONFIG_VALUE_{n}": workspace,
    }


def run(args: argparse.Namespace) -> int:
    from autopack.action.cancel import CancelGuard, Cancelled
    from autopack.action.exit_codes import CONFIG_ERROR, exit_code
    from autopack.action.inputs import ActionConfigError
    from autopack.action.runner import run_action

    os.environ.update(safe_directory_env(os.environ))
    with CancelGuard() as guard:
        try:
            code = run_action(dict(os.environ), throttle=not args.no_throttle)
        except ActionConfigError as exc:  # the inputs or the environment, before the run
            _report(os.environ, "config_error", f"Autopack stopped: {exc}", error=True)
            return CONFIG_ERROR
        except Cancelled as stop:  # before the run's phases started: nothing to settle
            _report(os.environ, "cancelled", f"Autopack was cancelled ({stop.signal_name}).")
            return stop.exit_code
    return guard.exit_code(code) if code == exit_code("cancelled") else code


def _report(environ: Mapping[str, str], conclusion: str, message: str, error: bool = False) -> None:
    """The outputs and step summary of a run that ended before its session did."""
    from autopack.action.session import Outcome
    from autopack.action.workflow_commands import WorkflowLog, append_summary, write_outputs

    log = WorkflowLog()
    (log.error if error else log.warning)(message)
    write_outputs(environ.get("GITHUB_OUTPUT", ""), Outcome(conclusion=conclusion).outputs())
    append_summary(environ.get("GITHUB_STEP_SUMMARY", ""), f"## Autopack\n\n{message}\n")
