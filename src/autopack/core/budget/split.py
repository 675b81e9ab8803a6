"""Splitting a planned phase that is too large (pure): the planner's use of the batch analysis.

A phase the planner wrote whose deliverables would need several batches (see `batching.py`:
more than one response's estimate, or more than 12 files) becomes consecutive phases, one per
batch, in the writing order: `<id>-1`, `<id>-2`, ... Part k depends on part k-1 (part 1 on what the
phase depended on); a phase that depended on the original depends on its last part, which also
carries the validation tests and acceptance criteria (the earlier parts are steps towards them).
Sizes come from the repo's file list (bytes, read as chars): the planner has no file contents, so
the order uses paths and names only.
"""

from __future__ import annotations

from collections.abc import Callable

from autopack.core.budget.batching import layout
from autopack.core.budget.deps import Item
from autopack.core.budget.estimator import DeliverableSize, EstimateInput, EstimatorParams, estimate
from autopack.core.budget.policy import BudgetSettings, choose_format, output_cap, request_capacity
from autopack.core.modeltable import ModelInfo
from autopack.core.spec import DeliverableAction, Phase, RunSpec

Sizes = Callable[[str], int | None]  # path -> bytes of an existing file, or None


def phase_batches(
    phase: Phase, sizes: Sizes, model: ModelInfo, params: EstimatorParams
) -> list[list[str]]:
    """The batches of a phase known only by its deliverables and the repo's file sizes."""
    rows = []
    for d in phase.deliverables:
        size = sizes(d.old_path or d.path) if d.action is not DeliverableAction.create else None
        action = d.action.value
        if d.action is DeliverableAction.modify and size is None:
            action = "create"
        rows.append(DeliverableSize(path=d.path, action=action, old_path=d.old_path, chars=size))
    est = estimate(EstimateInput(deliverables=rows), params)
    settings = BudgetSettings()
    fmt = choose_format(est, settings)
    sizes_by_path = {r.path: r.room_for(fmt) for r in est.deliverables}
    capacity = request_capacity(output_cap(model), fmt, settings)
    items = [
        Item(path=d.path, action=d.action.value, description=d.description)
        for d in phase.deliverables
    ]
    return layout(items, sizes_by_path, capacity).batches


def _parts(phase: Phase, batches: list[list[str]]) -> list[Phase]:
    by_path = {d.path: d for d in phase.deliverables}
    n = len(batches)
    parts: list[Phase] = []
    for k, paths in enumerate(batches, 1):
        last = k == n
        parts.append(
            phase.model_copy(
                update={
                    "id": f"{phase.id[: 64 - len(str(n)) - 1]}-{k}",
                    "title": f"{phase.title} (part {k} of {n})",
                    "deliverables": tuple(by_path[p] for p in paths),
                    "depends_on": phase.depends_on if k == 1 else (parts[-1].id,),
                    "validation_tests": phase.validation_tests if last else (),
                    "acceptance": phase.acceptance if last else (),
                    "allow_no_change": phase.allow_no_change,
                }
            )
        )
    return parts


def split_large_phases(
    spec: RunSpec, sizes: Sizes, model: ModelInfo, params: EstimatorParams
) -> RunSpec:
    """`spec` with each phase that needs several batches split into one phase per batch."""
    phases: list[Phase] = []
    renamed: dict[str, str] = {}
    taken = {p.id for p in spec.phases}
    for phase in spec.phases:
        batches = phase_batches(phase, sizes, model, params)
        parts = _parts(phase, batches) if len(batches) > 1 else []
        if not parts or taken & {p.id for p in parts}:
            phases.append(phase)  # one batch (or the part ids are taken: left whole)
            continue
        taken |= {p.id for p in parts}  # a long id is cut: another phase's parts may match
        renamed[phase.id] = parts[-1].id
        phases += parts
    if not renamed:
        return spec
    fixed = [
        p.model_copy(update={"depends_on": tuple(renamed.get(d, d) for d in p.depends_on)})
        for p in phases
    ]
    return spec.model_copy(update={"phases": tuple(fixed)})
