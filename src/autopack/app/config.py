"""The executor's settings (a face decides them; app/compose.py hands them to the Executor)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.budget.policy import BudgetSettings
from autopack.core.build import BuildSettings


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

    @property
    def branch(self) -> str:
        return f"autopack/{self.run_id}"

    def runs(self, phase_id: str) -> bool:
        """Whether this run may build, apply or retry `phase_id`."""
        return not self.only_phases or phase_id in self.only_phases


__all__ = ["ExecutorConfig"]
