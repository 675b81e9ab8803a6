"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autopack.core.governance.requests import RequestState
from autopack.core.state import RunState
from autopack.errors import AutopackError


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def next_steps(state: RunState, out: str, repo: str) -> list[str]:
    """What a person does about phases held for approval (printed at the end of run/resume)."""
    pending = [r for r in state.requests if r.state is RequestState.pending]
    if not pending:
        return []
    lines = [f"{len(pending)} phase(s) held for approval (nothing of them is written yet):"]
    for r in pending:
        lines.append(f"  request {r.id} ({r.phase_id}): {', '.join(r.paths)} [risk {r.risk.value}]")
        lines.append(f"    approve: autopack approve {r.id} --by NAME --out {out} --repo {repo}")
        lines.append(f"    deny:    autopack deny {r.id} --by NAME --out {out} --repo {repo}")
    lines.append(f"Then continue: autopack resume --out {out} --repo {repo}")
    return lines


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
