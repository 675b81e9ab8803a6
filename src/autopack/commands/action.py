"""`autopack action`: the GitHub Action's entry point (see action.yml). Reads GITHUB_EVENT_NAME,
GITHUB_EVENT_PATH, INPUT_*, GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_WORKSPACE; writes
$GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import argparse
import os
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


def run(args: argparse.Namespace) -> int:
    from autopack.action.runner import run_action

    return run_action(dict(os.environ), throttle=not args.no_throttle)
