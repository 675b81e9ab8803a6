"""The value types of building a phase: its settings, one record per model request, the outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.budget.caching import CacheContext
from autopack.core.budget.policy import BudgetSettings
from autopack.core.context.budget import ContextSettings
from autopack.core.model_io import Message, StopReason
from autopack.core.usage import Usage


class BuildSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = Field(default=16_000, gt=0, description="Of the first request")
    max_continuations: int = Field(default=8, ge=0)
    repair_turns: int = Field(default=1, ge=0)
    next_max_tokens: tuple[int, ...] = Field(
        default=(), description="Planned max_tokens of the requests after the first, in order"
    )
    growth: float = Field(default=1.0, ge=1.0, description="Factor per request past the plan")
    max_output_tokens: int | None = Field(default=None, gt=0, description="Cap on any request")
    max_after_plan: bool = Field(
        default=False,
        description="Past the planned requests (after a cut), ask for max_output_tokens",
    )
    context_window: int | None = Field(
        default=None, gt=0, description="Input + max_tokens stay inside it"
    )
    cache: CacheContext = Field(
        default_factory=CacheContext, description="What prompt-cache breakpoints may expect"
    )

    def max_tokens_at(self, n: int, previous: int | None, input_tokens: int = 0) -> int:
        """max_tokens of request `n` (0-based) of a phase, given the previous request's, kept
        inside the context window for a request of `input_tokens` (an upper estimate)."""
        if n == 0 or previous is None:
            wanted = self.max_tokens
        elif n - 1 < len(self.next_max_tokens):
            wanted = self.next_max_tokens[n - 1]
        elif self.max_after_plan and self.max_output_tokens:
            wanted = self.max_output_tokens
        else:
            grown = int(previous * self.growth + 0.999)
            wanted = min(self.max_output_tokens or grown, grown)
        if self.context_window is not None:
            wanted = min(wanted, self.context_window - input_tokens)
        return max(1, wanted)


class RequestRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    purpose: str
    max_tokens: int
    stop_reason: StopReason | Literal["dropped", "error"]
    usage: Usage
    ops_received: int
    malformed_lines: int
    elapsed_s: float | None = None
    error: str = ""


class BuildOutcome(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    complete: bool
    error: str = ""
    requests: list[RequestRecord] = Field(default_factory=list)
    continuations: int = 0
    repairs: int = 0
    messages: list[Message] = Field(
        default_factory=list, description="The conversation, ending with the last response"
    )

    @property
    def usage(self) -> Usage:
        return Usage.total(r.usage for r in self.requests)


class ExecutorConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    model: str | None = None
    base_branch: str = "main"
    build: BuildSettings = BuildSettings()
    push: bool = False
    issue_number: int | None = None
    repair_rounds: int = Field(default=1, ge=0, description="Rounds for a phase the gates block")
    budget: BudgetSettings | None = Field(
        default_factory=BudgetSettings,
        description="Budget policy for max_tokens; None uses build.max_tokens for every request",
    )
    only_phases: tuple[str, ...] = Field(
        default=(),
        description="Run only these phases (a follow-up); the others keep the state a resumed run "
        "had for them and are not built, applied or retried. Empty: every phase",
    )
    context: ContextSettings = ContextSettings()

    @property
    def branch(self) -> str:
        return f"autopack/{self.run_id}"

    def runs(self, phase_id: str) -> bool:
        """Whether this run may build, apply or retry `phase_id`."""
        return not self.only_phases or phase_id in self.only_phases
