"""The budget of one phase (pure): sizes its deliverables through a read-only port, asks the
estimator and the budget policy, and turns the plan into the builder's max_tokens schedule."""

from __future__ import annotations

from collections.abc import Callable

from autopack.core.budget.estimator import DeliverableSize, EstimateInput, EstimatorParams, estimate
from autopack.core.budget.policy import BudgetPlan, BudgetSettings, Complexity, plan_budget
from autopack.core.build import BuildSettings
from autopack.core.modeltable import ModelInfo
from autopack.core.spec import DeliverableAction, Phase
from autopack.errors import PathPolicyError

Reader = Callable[[str], bytes | None]


def _size(read: Reader, path: str) -> tuple[int | None, int | None]:
    """(lines, chars) of an existing text file, or (None, None) (also for a path the workspace
    refuses to read: the gates and the ops name the problem, the budget only lacks a size)."""
    try:
        data = read(path)
    except PathPolicyError:
        data = None
    if data is None:
        return None, None
    text = data.decode("utf-8", errors="replace")
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1), len(text)


def phase_estimate_input(phase: Phase, read: Reader) -> EstimateInput:
    """What a run knows before calling the model: the goal, each deliverable's path and action, and
    the size of each existing file it names."""
    deliverables = []
    for d in phase.deliverables:
        source = d.old_path if d.action is DeliverableAction.rename and d.old_path else d.path
        lines, chars = (None, None)
        if d.action is not DeliverableAction.create:
            lines, chars = _size(read, source)
        action = d.action.value
        if d.action is DeliverableAction.modify and chars is None:
            action = "create"  # a "modify" of a file that does not exist yet creates it
        deliverables.append(
            DeliverableSize(
                path=d.path, action=action, old_path=d.old_path, lines=lines, chars=chars
            )
        )
    return EstimateInput(goal=f"{phase.title}\n{phase.goal}", deliverables=deliverables)


def plan_phase(
    phase: Phase,
    read: Reader,
    model: ModelInfo,
    params: EstimatorParams,
    settings: BudgetSettings | None = None,
) -> BudgetPlan:
    est = estimate(phase_estimate_input(phase, read), params) if phase.deliverables else None
    complexity: Complexity = phase.complexity.value if phase.complexity else "medium"
    return plan_budget(est, model, settings, complexity=complexity)


def scheduled_settings(base: BuildSettings, plan: BudgetPlan, model: ModelInfo) -> BuildSettings:
    """The builder settings for a planned phase: the planned requests' max_tokens in order, then
    growth (x2 after an estimate fell short, x1.5 on the static fallback) up to the model's max."""
    budgets = [r.max_tokens for r in plan.requests] or [plan.max_tokens]
    settings = BudgetSettings()
    growth = settings.escalation_factor if plan.fallback else settings.continuation_growth
    return base.model_copy(
        update={
            "max_tokens": budgets[0],
            "next_max_tokens": tuple(budgets[1:]),
            "growth": growth,
            "max_output_tokens": model.max_output_tokens,
            # Planned parts are continuations too; keep the configured slack on top of them.
            "max_continuations": base.max_continuations + len(budgets) - 1,
        }
    )


def describe_plan(plan: BudgetPlan) -> str:
    if plan.fallback or plan.estimate_tokens is None:
        return f"no size estimate (unknown files); static budget, max_tokens {plan.max_tokens:,}"
    parts = len(plan.requests)
    spread = f" over {parts} planned requests" if parts > 1 else ""
    return (
        f"estimate ~{plan.estimate_tokens:,} output tokens ({plan.format} format), "
        f"max_tokens {plan.max_tokens:,}{spread}"
    )
