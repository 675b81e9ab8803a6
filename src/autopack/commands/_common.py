"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autopack.errors import AutopackError


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_context_arguments(p: argparse.ArgumentParser) -> None:
    """What the model sees besides the deliverables (see README "What the model sees")."""
    g = p.add_argument_group("context (what the model sees of the repo)")
    g.add_argument(
        "--instructions",
        metavar="TEXT",
        default="",
        help="extra guidance for the model, shown with the repo's AGENTS.md (@FILE reads a file)",
    )
    g.add_argument(
        "--context-budget",
        type=int,
        metavar="TOKENS",
        help="tokens of repo context per phase (default: the spec's, else 8,000-20,000 from the "
        "model's context window and the phase's estimated output; 0: deliverables only)",
    )


def instructions_text(value: str) -> str:
    """The --instructions value: the text, or with a leading @ the content of that file."""
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AutopackError(f"cannot read --instructions {value}: {exc}") from None
