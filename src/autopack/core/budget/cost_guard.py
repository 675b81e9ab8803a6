"""The run's cost budget (`budget.max_cost_usd` in the spec, or the Action's max_cost_usd input),
pure: a phase is not started when what was spent plus its projected cost would exceed the budget,
no request asks for more output than the rest of the budget pays for, and a phase's next request
is not sent once the budget is spent. Committed phases stay; the rest of
the run stops cleanly with the reason."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.budget.policy import BudgetPlan
from autopack.core.modeltable import ModelInfo
from autopack.core.usage import Usage

CHARS_PER_TOKEN = 3.6  # the estimator's conversion for prompt text


class CostGuard(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    limit_usd: float | None = Field(default=None, gt=0)

    def projected_phase_usd(
        self,
        plan: BudgetPlan | None,
        prompt_chars: int,
        model: ModelInfo,
        input_tokens: int | None = None,
    ) -> float:
        """Input of the first request (its exact count when known) plus the estimated output
        (planned max_tokens on fallback)."""
        output = plan.estimate_tokens if plan and plan.estimate_tokens is not None else None
        if output is None:
            output = plan.max_tokens if plan else 0
        tokens = input_tokens if input_tokens is not None else int(prompt_chars / CHARS_PER_TOKEN)
        usage = Usage(input_tokens=tokens, output_tokens=output)
        return model.cost_usd(usage)

    def refuse_phase(self, spent_usd: float, projected_usd: float) -> str | None:
        """Why the next phase must not start, or None."""
        if self.limit_usd is None or spent_usd + projected_usd <= self.limit_usd:
            return None
        return (
            f"cost budget: ${spent_usd:.4f} spent of ${self.limit_usd:.2f}; this phase is "
            f"estimated at ${projected_usd:.4f}"
        )

    def output_room(
        self, spent_usd: float, model: ModelInfo, used: Usage | None = None, input_tokens: int = 0
    ) -> int | None:
        """How many output tokens the rest of the budget pays for, after `spent_usd`, the phase's
        `used` so far and a next request of `input_tokens` (None: no budget). A request never
        asks for more (max_tokens is the most it can bill), so the budget holds."""
        if self.limit_usd is None or model.output_usd_per_mtok <= 0:
            return None
        cost = model.cost_usd((used or Usage()) + Usage(input_tokens=input_tokens))
        left = self.limit_usd - spent_usd - cost
        return max(0, int(left * 1_000_000 / model.output_usd_per_mtok))

    def refuse_after(self, spent_usd: float, model: ModelInfo, used: Usage) -> str | None:
        """refuse_request once a phase has also used `used` (its requests so far)."""
        return self.refuse_request(spent_usd + model.cost_usd(used))

    def refuse_request(self, spent_usd: float) -> str | None:
        """Why no further request may be sent, or None."""
        if self.limit_usd is None or spent_usd < self.limit_usd:
            return None
        return f"cost budget: ${spent_usd:.4f} spent of ${self.limit_usd:.2f}; no further request"
