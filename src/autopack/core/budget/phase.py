"""The budget of one phase (pure): reads its deliverables through read-only ports, orders them by
their dependencies, sizes them, asks the estimator and the budget policy, splits the order into
batches when needed, and turns each batch's plan into the builder's max_tokens schedule.

Sizes: a file's exact token count when the caller can count (`Counter`: the token-counting
endpoint, cached per content SHA), else its lines and chars (the estimator converts them); a
created file gets a typical size from similar files when the caller has one (`Hint`)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from autopack.core.budget.batching import PhaseLayout, layout
from autopack.core.budget.caching import CacheContext
from autopack.core.budget.deps import Item
from autopack.core.budget.estimator import (
    DeliverableSize,
    Estimate,
    EstimateInput,
    EstimatorParams,
    described_tokens,
    estimate,
)
from autopack.core.budget.policy import (
    BudgetPlan,
    BudgetSettings,
    Complexity,
    choose_format,
    output_cap,
    plan_budget,
    request_capacity,
)
from autopack.core.build import BuildSettings
from autopack.core.modeltable import ModelInfo
from autopack.core.spec import DeliverableAction, Phase
from autopack.errors import PathPolicyError

Reader = Callable[[str], bytes | None]
Counter = Callable[[str, bytes], int | None]  # (path, content) -> exact tokens, or None
Hint = Callable[[str], int | None]  # path of a file to create -> typical tokens, or None


def safe_read(read: Reader, path: str) -> bytes | None:
    """The file's content, or None when missing or when the workspace refuses to read the path
    (the gates and the ops name the problem; the budget only lacks a size)."""
    try:
        return read(path)
    except PathPolicyError:
        return None


def _size(data: bytes | None) -> tuple[int | None, int | None]:
    """(lines, chars) of an existing text file, or (None, None)."""
    if data is None:
        return None, None
    text = data.decode("utf-8", errors="replace")
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1), len(text)


def _source(d_path: str, old_path: str | None, action: DeliverableAction) -> str:
    return old_path if action is DeliverableAction.rename and old_path else d_path


def phase_estimate_input(
    phase: Phase,
    read: Reader,
    count: Counter | None = None,
    hint: Hint | None = None,
    params: EstimatorParams | None = None,
) -> EstimateInput:
    """What a run knows before calling the model: the goal, each deliverable's path and action,
    the size of each existing file it names (exact tokens when `count` can tell), and a first size
    for each file it creates: what its description says ("a ~150-line module", with `params`),
    else a typical size (from `hint`: similar files)."""
    deliverables = []
    for d in phase.deliverables:
        source = _source(d.path, d.old_path, d.action)
        data = safe_read(read, source) if d.action is not DeliverableAction.create else None
        lines, chars = _size(data)
        action = d.action.value
        if d.action is DeliverableAction.modify and chars is None:
            action = "create"  # a "modify" of a file that does not exist yet creates it
        tokens = count(source, data) if count is not None and data is not None else None
        typical = None
        if action == "create":
            said = described_tokens(d.description, params) if params is not None else None
            typical = said if said is not None else hint(d.path) if hint is not None else None
        deliverables.append(
            DeliverableSize(
                path=d.path,
                action=action,
                old_path=d.old_path,
                lines=lines,
                chars=chars,
                tokens=tokens,
                hint_tokens=typical,
            )
        )
    return EstimateInput(goal=f"{phase.title}\n{phase.goal}", deliverables=deliverables)


def phase_items(phase: Phase, read: Reader) -> list[Item]:
    """The deliverables with their current text, for the dependency analysis."""
    items = []
    for d in phase.deliverables:
        data = safe_read(read, _source(d.path, d.old_path, d.action))
        text = data.decode("utf-8", "replace") if data is not None else None
        items.append(Item(path=d.path, action=d.action.value, text=text, description=d.description))
    return items


class PhaseBudget(BaseModel):
    """A phase's writing order and batches, the plan of each batch, and the whole phase's plan
    (its requests are the batches' requests, in order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    layout: PhaseLayout
    plan: BudgetPlan
    batch_plans: list[BudgetPlan]


def subset_estimate(est: Estimate, paths: list[str]) -> Estimate:
    rows = [r for p in paths for r in est.deliverables if r.path == p]
    return Estimate(
        full_file_tokens=sum(r.full_file_tokens for r in rows),
        edit_tokens=sum(r.edit_tokens for r in rows),
        deliverables=rows,
        unknown_paths=[p for p in est.unknown_paths if p in paths],
    )


def budget_phase(
    phase: Phase,
    read: Reader,
    model: ModelInfo,
    params: EstimatorParams,
    settings: BudgetSettings | None = None,
    *,
    count: Counter | None = None,
    hint: Hint | None = None,
    input_tokens: int | None = None,
) -> PhaseBudget:
    """Order, batches and plans of one phase (`input_tokens`: the prompt's size, when known)."""
    s = settings or BudgetSettings()
    complexity: Complexity = phase.complexity.value if phase.complexity else "medium"
    est = estimate(phase_estimate_input(phase, read, count, hint, params), params)
    fmt = choose_format(est if phase.deliverables else None, s)
    sizes = {r.path: r.room_for(fmt) for r in est.deliverables}
    capacity = request_capacity(output_cap(model, input_tokens), fmt, s)
    shape = layout(phase_items(phase, read), sizes, capacity)
    ordered = subset_estimate(est, shape.order)
    whole = plan_budget(
        ordered if phase.deliverables else None,
        model,
        s,
        complexity=complexity,
        input_tokens=input_tokens,
        fmt=fmt,
    )
    if len(shape.batches) == 1:
        return PhaseBudget(layout=shape, plan=whole, batch_plans=[whole])
    plans = [
        plan_budget(
            subset_estimate(est, b),
            model,
            s,
            complexity=complexity,
            input_tokens=input_tokens,
            fmt=fmt,
        )
        for b in shape.batches
    ]
    combined = whole.model_copy(
        update={
            "requests": [r for p in plans for r in p.requests],
            "max_tokens": plans[0].max_tokens,
        }
    )
    return PhaseBudget(layout=shape, plan=combined, batch_plans=plans)


def plan_phase(
    phase: Phase,
    read: Reader,
    model: ModelInfo,
    params: EstimatorParams,
    settings: BudgetSettings | None = None,
) -> BudgetPlan:
    """The whole phase's budget plan (see `budget_phase`)."""
    return budget_phase(phase, read, model, params, settings).plan


def scheduled_settings(
    base: BuildSettings, plan: BudgetPlan, model: ModelInfo, cache: CacheContext | None = None
) -> BuildSettings:
    """The builder settings for a planned phase (or batch): the planned requests' max_tokens in
    order; after a cut past them, the model's max output (max_tokens is not billed)."""
    budgets = [r.max_tokens for r in plan.requests] or [plan.max_tokens]
    return base.model_copy(
        update={
            "max_tokens": budgets[0],
            "next_max_tokens": tuple(budgets[1:]),
            "growth": 1.0,
            "max_output_tokens": model.max_output_tokens,
            "max_after_plan": True,
            "context_window": model.context_window,
            # Planned parts are continuations too; keep the configured slack on top of them.
            "max_continuations": base.max_continuations + len(budgets) - 1,
            "cache": cache or CacheContext(min_tokens=model.min_cache_tokens),
        }
    )


def describe_plan(plan: BudgetPlan, shape: PhaseLayout | None = None) -> str:
    batches = len(shape.batches) if shape is not None else 1
    split = f" in {batches} batches" if batches > 1 else ""
    if plan.fallback or plan.estimate_tokens is None:
        return (
            f"no size estimate (unknown files); static budget, max_tokens {plan.max_tokens:,}"
            f"{split}"
        )
    parts = len(plan.requests)
    spread = f" over {parts} planned requests" if parts > 1 else ""
    return (
        f"estimate ~{plan.estimate_tokens:,} output tokens ({plan.format} format), "
        f"max_tokens {plan.max_tokens:,}{spread}{split}"
    )
