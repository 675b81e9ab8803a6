"""`autopack action`: the GitHub Action's entry point (the image's default command; see
action.yml). Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, INPUT_*, GITHUB_API_URL, GITHUB_REPOSITORY and
GITHUB_WORKSPACE; writes $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY."""

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
    from autopack.action.runner import run_action

    os.environ.update(safe_directory_env(os.environ))
    return run_action(dict(os.environ), throttle=not args.no_throttle)
