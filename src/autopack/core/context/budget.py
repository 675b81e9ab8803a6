"""How much context a phase gets (pure), in tokens (characters / 3.6, as the estimator counts
prompt text): it scales with the model's context window and the phase's estimated output, within
8,000-20,000 by default; a setting (spec `context_budget`, `--context-budget`, the Action's
`context_budget` input) replaces it. 0 turns the engine off (deliverables only, as before)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MIN_TOKENS = 8_000
MAX_TOKENS = 20_000
OUTPUT_SHARE = 0.25  # each estimated output token adds this many tokens of context
WINDOW_FLOOR = 25  # the floor is at most window / 25 (a small window gets less)
WINDOW_CAP = 10  # and the budget at most window / 10
INSTRUCTIONS_SHARE = 0.25  # of the budget, at most, for repo instructions
MAX_INSTRUCTION_CHARS = 12_000
RELATED_SHARE = 0.6  # of what instructions leave, at most, for a phase's related files


class ContextSettings(BaseModel):
    """The context engine's settings for a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_tokens: int | None = Field(
        default=None, ge=0, description="Tokens of context; None: from the model and estimate"
    )
    instructions: str = Field(default="", description="Extra guidance (the run's setting)")


def context_budget(
    settings: ContextSettings, context_window: int, estimated_output: int | None
) -> int:
    """The phase's budget for instructions, repo map and related files together."""
    if settings.budget_tokens is not None:
        return settings.budget_tokens
    floor = min(MIN_TOKENS, context_window // WINDOW_FLOOR)
    cap = max(floor, min(MAX_TOKENS, context_window // WINDOW_CAP))
    wanted = floor + int((estimated_output or 0) * OUTPUT_SHARE)
    return max(floor, min(cap, wanted))


def instruction_chars(budget_tokens: int) -> int:
    """Characters the repo instructions may use in a budget of `budget_tokens`."""
    return min(MAX_INSTRUCTION_CHARS, int(budget_tokens * INSTRUCTIONS_SHARE * 3.6))
