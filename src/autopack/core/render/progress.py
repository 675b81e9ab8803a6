"""The executor's progress lines (pure): what a person watching a run reads."""

from __future__ import annotations

from autopack.core.build import BuildOutcome
from autopack.core.edits.changeset import OpResult
from autopack.core.usage import Usage

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
            f"op(s), {r.usage.output_tokens} output tokens{_cache(r.usage)}"
            for n, r in enumerate(outcome.requests, 1)
        ]
    return lines


def _cache(usage: Usage) -> str:
    """The prompt cache's part of a request's input, when it had one."""
    if not usage.cache_creation_input_tokens and not usage.cache_read_input_tokens:
        return ""
    return (
        f", cache write {usage.cache_creation_input_tokens:,} / read "
        f"{usage.cache_read_input_tokens:,}"
    )


def op_line(result: OpResult, held: bool = False) -> str:
    """One op as it is decoded. An op on a protected path is held, not applied: nothing of the
    phase is written until a maintainer approves it."""
    if held and result.status == "applied":
        return f"    ~ op {result.id} ({result.op} {result.path}) held: protected path, awaits approval"
    return f"    {_MARKS.get(result.status, '!')} {result.describe()}"


def pr_title(goal: str) -> str:
    first = (goal.strip().splitlines() or [""])[0]
    return f"Autopack: {first[:100]}"
