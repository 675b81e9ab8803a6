"""Repair rounds: while the gates block a phase and rounds are left, send the gate failures back to
the model in the same conversation, write its fixes and finalize again.

`finalize_with_repairs` does the model and file work of the rounds and says how they ended; what
happens next (commit, fail with a patch, hold for approval) is the executor's call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from autopack.app.builder import OpListener, build_phase
from autopack.core.budget.cost_guard import CostGuard
from autopack.core.build import BuildOutcome, BuildSettings
from autopack.core.edits.changeset import ChangeSet
from autopack.core.gates.decision import PhaseDecision
from autopack.core.modeltable import ModelInfo
from autopack.core.render.gate_feedback import gate_repair_prompt
from autopack.core.render.prompts import system_prompt
from autopack.core.spec import Phase
from autopack.core.state import PhaseRecord, PhaseStatus
from autopack.core.telemetry import RunTelemetry, request_telemetry
from autopack.ports import Finalizer, ModelClient, Workspace


@dataclass(frozen=True)
class RepairSetup:
    """What the rounds need from the run: the model, the gates, the checkout."""

    model: ModelClient
    model_id: str
    model_info: ModelInfo
    settings: BuildSettings
    rounds: int
    finalizer: Finalizer
    workspace: Workspace
    touches_protected: Callable[[ChangeSet, int], bool]  # (changes, ops applied before)
    applied_count: Callable[[ChangeSet], int]
    telemetry: RunTelemetry
    progress: Callable[[str], None]
    on_op: OpListener
    system: str = ""  # the run's system prompt (its cached prefix); "" for the bare rules
    limit_usd: float | None = None  # the run's cost budget: no round is sent once it is spent


RepairEndKind = Literal["finalized", "incomplete", "protected"]


@dataclass(frozen=True)
class RepairEnd:
    """How the rounds ended.

    - finalized: `decision` is the last finalizer decision (blocked or not); every change is
      written and listed in `record.changed_paths`.
    - incomplete: a round's response was cut off (`reason`); its changes are written.
    - protected: a round's ops reached a protected path; nothing of that round is written
      (`complete` False when the response was also cut off, with `reason`).
    """

    kind: RepairEndKind
    decision: PhaseDecision
    reason: str = ""
    complete: bool = True


def finalize_with_repairs(
    setup: RepairSetup,
    phase: Phase,
    record: PhaseRecord,
    changes: ChangeSet,
    built: BuildOutcome | None,
    prefix: str,
) -> RepairEnd:
    """Finalize the written `changes`; repair while blocked (only with `built`, the conversation
    so far). Updates `record` (ops, requests, usage, cost, changed paths) and the phase telemetry."""
    decision = setup.finalizer.finalize(phase, changes)
    guard = CostGuard(limit_usd=setup.limit_usd)
    for n in range(1, setup.rounds + 1):
        if not decision.blocked or built is None or not built.messages:
            break
        setup.progress(f"{prefix}: blocked ({'; '.join(decision.block_reasons())})")
        spent = setup.telemetry.cost_usd
        refused = guard.refuse_request(spent)
        if refused:
            setup.progress(f"{prefix}: no repair round ({refused})")
            break
        setup.progress(f"{prefix}: repair round {n}/{setup.rounds}")
        record.move(PhaseStatus.building)
        changes.reopen()
        before = setup.applied_count(changes)
        built = build_phase(
            setup.model,
            model=setup.model_id,
            system=setup.system or system_prompt(),
            prompt=gate_repair_prompt(
                changes.last_id, decision, setup.workspace.read, record.changed_paths
            ),
            changes=changes,
            settings=setup.settings,
            phase_id=phase.id,
            on_op=setup.on_op,
            history=tuple(built.messages),
            first_purpose="repair",
            stop_check=functools.partial(guard.refuse_after, spent, setup.model_info),
            output_room=functools.partial(guard.output_room, spent, setup.model_info),
        )
        _account(setup, phase, record, changes, built)
        # The headline stays the gate that blocked; the round's own trouble follows it.
        blocked = "; ".join(decision.block_reasons())
        incomplete = f"{blocked} (repair round {n} did not finish: {built.error})"
        if setup.touches_protected(changes, before):
            return RepairEnd("protected", decision, incomplete, complete=built.complete)
        fresh = changes.changed_paths()
        setup.workspace.write_changes({p: changes.changes[p] for p in fresh})
        record.changed_paths = sorted(set(record.changed_paths) | set(fresh))
        if not built.complete:
            return RepairEnd("incomplete", decision, incomplete)
        record.move(PhaseStatus.applying)
        decision = setup.finalizer.finalize(phase, changes)
    return RepairEnd("finalized", decision)


def _account(
    setup: RepairSetup, phase: Phase, record: PhaseRecord, changes: ChangeSet, built: BuildOutcome
) -> None:
    """A round's ops, requests, usage and cost count for the phase."""
    record.ops = list(changes.results)
    record.requests += len(built.requests)
    record.usage = record.usage + built.usage
    record.cost_usd += sum(setup.model_info.cost_usd(r.usage) for r in built.requests)
    for pt in setup.telemetry.phases:
        if pt.phase_id == phase.id:
            pt.requests += request_telemetry(built.requests, setup.model_info)
            pt.repairs += 1 + built.repairs  # the round, and any repair turn inside it
            pt.continuations += built.continuations
