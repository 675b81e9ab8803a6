"""Helpers shared by the subcommands."""

from __future__ import annotations

import sys

from autopack.core.governance.requests import RequestState
from autopack.core.state import RunState


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
