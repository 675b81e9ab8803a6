"""The executor's progress lines (pure): what a person watching a run reads."""

from __future__ import annotations

from autopack.core.build import BuildOutcome
from autopack.core.edits.changeset import OpResult

_MARKS = {"applied": "+", "ignored": "=", "rejected": "!"}


def build_lines(outcome: BuildOutcome, estimated: int | None) -> list[str]:
    """Output tokens vs the estimate, and each request when there were more than one."""
    lines = []
    if estimated:
        actual = outcome.usage.output_tokens
        lines.append(
            f"    output {actual:,} tokens vs estimate {estimated:,} "
            f"({(actual - estimated) / estimated:+.0%})"
        )
    if len(outcome.requests) > 1:
        lines += [
            f"    ~ request {n} ({r.purpose}): {r.stop_reason} after {r.ops_received} "
            f"op(s), {r.usage.output_tokens} output tokens"
            for n, r in enumerate(outcome.requests, 1)
        ]
    return lines


def op_line(result: OpResult, held: bool = False) -> str:
    """One op as it is decoded. An op on a protected path is held, not applied: nothing of the
    phase is written until a maintainer approves it."""
    if held and result.status == "applied":
        return f"    ~ op {result.id} ({result.op} {result.path}) held: protected path, awaits approval"
    return f"    {_MARKS.get(result.status, '!')} {result.describe()}"


def pr_title(goal: str) -> str:
    first = (goal.strip().splitlines() or [""])[0]
    return f"Autopack: {first[:100]}"
