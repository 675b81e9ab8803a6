"""The executor: runs a spec's phases in dependency order through the ports. Per phase:
building (model -> ChangeSet in memory), applying (write, finalize), committed or failed. A failed
phase leaves the working tree clean (its changes are kept as a patch artifact) and its dependents are
blocked. A phase already committed on the branch (found from its trailer) is not run again."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from autopack.app.builder import build_phase
from autopack.app.context import FirstRequest, RunContext, committed_paths
from autopack.app.forge_reports import ensure_pr, publish_check, save_records, save_spec
from autopack.app.governor import Governor, load_policy
from autopack.app.phase_budget import Budgeter, PreparedPhase
from autopack.app.repair_rounds import RepairEnd, RepairSetup, finalize_with_repairs
from autopack.app.worktree_guard import WorktreeGuard
from autopack.core.budget.cost_guard import CostGuard
from autopack.core.budget.estimator import EstimatorParams
from autopack.core.build import BuildOutcome, ExecutorConfig
from autopack.core.dag import topological_order
from autopack.core.edits.changeset import ChangeSet, OpResult
from autopack.core.events import EventSink, PhaseStarted, ignore
from autopack.core.gates.decision import NoGates, PhaseDecision
from autopack.core.governance.comment import DEFAULT_LABELS
from autopack.core.governance.decide import blocked_reason
from autopack.core.governance.policy import GovernancePolicy
from autopack.core.governance.requests import DecisionLabels, MemoryAuditLog
from autopack.core.modeltable import ModelInfo
from autopack.core.render.progress import build_lines, op_line
from autopack.core.spec import SPEC_TRAILER, Phase, RunSpec, phase_trailers, spec_conflict
from autopack.core.state import PhaseRecord, PhaseStatus, RunState
from autopack.core.telemetry import RunTelemetry, phase_telemetry
from autopack.errors import AutopackError, WorkspaceError
from autopack.ports import AuditLog, Clock, Finalizer, Forge, ModelClient, Workspace

Progress = Callable[[str], None]


class Executor:
    """Built by app/compose.py (the one composition root) from a face's settings."""

    def __init__(
        self,
        spec: RunSpec,
        workspace: Workspace,
        model: ModelClient,
        forge: Forge,
        config: ExecutorConfig,
        *,
        model_info: ModelInfo,
        estimator: EstimatorParams,
        clock: Clock,
        finalizer: Finalizer | None = None,
        progress: Progress | None = None,
        telemetry: RunTelemetry | None = None,
        policy: GovernancePolicy | None = None,
        audit: AuditLog | None = None,
        labels: DecisionLabels = DEFAULT_LABELS,
        on_event: EventSink = ignore,
        phase_context: Mapping[str, str] | None = None,
    ) -> None:
        self.spec, self.ws, self.model, self.forge = spec, workspace, model, forge
        self.config = config
        self.phase_context = dict(phase_context or {})  # phase id -> more prompt (a follow-up's)
        self.finalizer = finalizer or NoGates()
        self.progress = progress or (lambda _msg: None)
        self.on_event = on_event
        self.model_id = model_info.id
        self.model_info = model_info
        self.estimator = estimator
        self.state = RunState(run_id=config.run_id, branch=config.branch, goal=spec.goal)
        self.started = False  # the run's records (spec.json) are being written
        self.stopped: str | None = None  # why the run stopped starting phases (cost budget)
        self.telemetry = telemetry or RunTelemetry()
        self.telemetry.run_id, self.telemetry.model = config.run_id, self.model_id
        self.clock = clock
        self._earlier: dict[str, PhaseRecord] = {}  # a resumed run's previous records
        self.context: RunContext | None = None  # made when the run starts (the branch is ready)
        self.pr_pending = True  # until the forge has opened the PR (it needs a pushed commit)
        self.budgeter = Budgeter(workspace, model, model_info, estimator, config)
        self.gov = Governor(
            policy or load_policy(workspace, spec),
            clock,
            forge,
            audit or MemoryAuditLog(),
            config.run_id,
            self.progress,
            labels,
        )

    # -- the run ---------------------------------------------------------------------------
    def run(self, previous: RunState | None = None) -> RunState:
        """Run the phases; with `previous` (a resume) its held and denied phases and its
        governance requests are kept, and approved held phases are applied."""
        state = self.state
        state.base_sha = self.ws.prepare_branch(state.branch)
        done = self.ws.committed_phases(state.base_sha)
        self._same_spec(done)
        order = topological_order(self.spec.phases)
        state.phases = [PhaseRecord(id=p, title=self.spec.phase(p).title) for p in order]
        if previous is not None:
            self.gov.carry_over(previous, state)
            state.keep_unrun(previous, self.config.runs, done)
        self._earlier = {r.id: r for r in previous.phases} if previous else {}
        self.context = RunContext(
            self.ws, self.spec, self.model_info, self.config.context, self.budgeter.estimate_tokens
        )
        save_spec(self.forge, self.spec, state)
        self.started = True  # from here on, the run's records are saved however it ends
        try:
            self._run_phases(order, done)
        except Exception:
            self.save_records()  # what the phases did stays on record; the error is raised
            raise
        save_records(self.forge, state, self.telemetry, summary=True)
        return state

    def _run_phases(self, order: list[str], done: dict[str, str]) -> None:
        self._ensure_pr()
        for n, phase_id in enumerate(order, 1):
            self._step(n, len(order), phase_id, done)
        # The held phases' requests are stamped with the head first: a failed push leaves them
        # on record (state.json), to be approved and resumed.
        self.gov.publish(self.state, self.ws.head_sha())
        if self.config.push and any(p.status is PhaseStatus.committed for p in self.state.phases):
            self.ws.push(self.state.branch)
            self.progress(f"pushed {self.state.branch}")
        self._ensure_pr()

    def save_records(self) -> None:
        """state.json and telemetry.json of a run that stopped (an error, an interrupt) after it
        started; a failure to save them is reported, never raised over the run's own error."""
        try:
            if self.started:
                save_records(self.forge, self.state, self.telemetry)
        except (AutopackError, OSError) as exc:
            self.progress(f"autopack: could not save the run state: {exc}")

    def _step(self, n: int, total: int, phase_id: str, done: dict[str, str]) -> None:
        """One phase of the run: skip, apply approved held ops, block, or build it."""
        state = self.state
        phase, record = self.spec.phase(phase_id), state.phase(phase_id)
        prefix = f"[{n}/{total}] {phase_id}"
        if not self.config.runs(phase_id) and phase_id not in done:
            self.progress(f"{prefix}: {record.status.value} (not part of this run)")
            return
        if phase_id in done:
            earlier = self._earlier.get(phase_id)
            if earlier is not None and earlier.commit_sha == done[phase_id]:
                # committed before this resume: its record (ops, files) stays, with no cost
                state.phases[state.phases.index(record)] = earlier.carried()
            else:
                record.commit_sha, record.resumed = done[phase_id], True
                record.move(PhaseStatus.committed, "")
            self.progress(f"{prefix}: already committed in {done[phase_id][:10]}, skipped")
            return
        if record.status in (PhaseStatus.awaiting_approval, PhaseStatus.denied):
            held = self.gov.approved_changes(state, record, self.ws)
            if held is not None:
                self.progress(f"{prefix}: approved, applying the held ops")
                self._apply(phase, record, held, prefix)
            else:
                self.progress(f"{prefix}: {record.status.value} ({record.reason})")
            return
        missing = [d for d in phase.depends_on if state.phase(d).status != PhaseStatus.committed]
        if self.stopped:
            record.move(PhaseStatus.blocked, self.stopped)
            self.progress(f"{prefix}: not started ({self.stopped})")
            self._publish(phase, record, None)
            return
        if missing:
            record.move(PhaseStatus.blocked, blocked_reason(state, missing))
            self.progress(f"{prefix}: blocked ({record.reason})")
            self._publish(phase, record, None)
            return
        self._run_phase(
            phase,
            record,
            prefix,
            PhaseStarted(phase_id=phase_id, title=phase.title, index=n, total=total),
        )

    def _same_spec(self, done: dict[str, str]) -> None:
        """Never take another spec's phase with the same id for done (see spec_conflict)."""
        conflict = spec_conflict(self.spec, done, self.ws.commit_trailers, SPEC_TRAILER)
        if conflict:
            raise WorkspaceError(f"branch {self.state.branch} {conflict}")

    def _ensure_pr(self) -> None:
        self.pr_pending = ensure_pr(self.forge, self.state, self.spec, self.config)

    def _run_phase(
        self, phase: Phase, record: PhaseRecord, prefix: str, started_event: PhaseStarted
    ) -> None:
        prepared = self.budgeter.prepare(phase, started_event.total - started_event.index)
        plan = prepared.plan
        estimated = plan.estimate_tokens if plan else None
        request = self._first_request(prepared)
        guard = CostGuard(limit_usd=self.spec.budget.max_cost_usd)
        spent = self.telemetry.cost_usd
        counted = self.budgeter.input_tokens(request.system, request.prompt)
        projected = guard.projected_phase_usd(plan, len(request.printed), self.model_info, counted)
        refused = guard.refuse_phase(spent, projected)
        if refused:
            self.stopped = refused
            record.move(PhaseStatus.blocked, refused)
            self.progress(f"{prefix}: not started ({refused})")
            self._publish(phase, record, None)
            return
        record.move(PhaseStatus.building)
        self.progress(f"{prefix}: building ({phase.title})")
        self.on_event(started_event)
        for line in prepared.lines:
            self.progress(f"    {line}")
        changes = self.gov.new_changeset(self.ws)
        started = self.clock.now()
        outcome = build_phase(
            self.model,
            model=self.model_id,
            system=request.system,
            prompt=request.prompt,
            changes=changes,
            settings=prepared.settings,
            phase_id=phase.id,
            on_op=self._on_op,
            stop_check=functools.partial(guard.refuse_after, spent, self.model_info),
            batches=prepared.batches,
            output_room=functools.partial(guard.output_room, spent, self.model_info),
        )
        wall = (self.clock.now() - started).total_seconds()
        # Once the budget is spent, the phases after this one are not started.
        self.stopped = guard.refuse_after(spent, self.model_info, outcome.usage)
        self.telemetry.add(
            phase_telemetry(
                phase.id,
                outcome,
                self.model_info,
                wall_s=wall,
                estimated_output_tokens=estimated,
                context_tokens=request.sections,
            )
        )
        for line in build_lines(outcome, estimated):
            self.progress(line)
        record.ops, record.requests = list(changes.results), len(outcome.requests)
        record.usage = outcome.usage
        record.cost_usd = sum(self.model_info.cost_usd(r.usage) for r in outcome.requests)
        if outcome.complete:
            self._hold_or_apply(phase, record, changes, prefix, outcome)
        else:
            self._incomplete(phase, record, changes, f"build incomplete: {outcome.error}")

    def _incomplete(
        self, phase: Phase, record: PhaseRecord, changes: ChangeSet, reason: str
    ) -> None:
        """A build that did not finish fails; nothing protected is ever written for it."""
        if self.gov.touches_protected(changes):
            self.gov.fail_unwritten(record, changes, self.ws, reason)
            self._publish(phase, record, None)
        else:
            self._fail(phase, record, changes, reason)

    def _first_request(self, prepared: PreparedPhase) -> FirstRequest:
        assert self.context is not None  # made by run()
        protected, extra = (
            list(self.gov.policy.protected),
            self.phase_context.get(prepared.phase.id, ""),
        )
        return prepared.first_request(
            self.context, self.spec.goal, protected, committed_paths(self.state), extra
        )

    def _hold_or_apply(
        self,
        phase: Phase,
        record: PhaseRecord,
        changes: ChangeSet,
        prefix: str,
        built: BuildOutcome | None = None,
    ) -> None:
        """Hold the phase for approval if it touches a protected path, else apply it."""
        held = self.gov.hold(self.state, phase, record, changes, self.ws)
        if held is None:
            self.progress(f"{prefix}: {record.reason}")
            self._publish(phase, record, None)
            return
        self._apply(phase, record, held, prefix, built)

    def _apply(
        self,
        phase: Phase,
        record: PhaseRecord,
        changes: ChangeSet,
        prefix: str,
        built: BuildOutcome | None = None,
    ) -> None:
        """applying: capture the baseline, write, finalize (with repair rounds), then commit, fail
        or hold. Nothing of the phase is on disk before `prepare` captured the baseline."""
        record.move(PhaseStatus.applying)
        guard = WorktreeGuard(self.finalizer, self.ws, self.progress)
        guard.prepare()
        paths = changes.changed_paths()
        self.ws.write_changes({p: changes.changes[p] for p in paths})
        record.changed_paths = paths
        setup = self._repair_setup(guard)
        end = finalize_with_repairs(setup, phase, record, changes, built, prefix)
        self._gate_cost(phase, end.decision)
        if end.kind == "protected":
            self._hold_repaired(phase, record, changes, prefix, end)
            return
        if end.kind == "incomplete":
            self._fail(phase, record, changes, end.reason, end.decision, True)
            return
        decision, paths = end.decision, record.changed_paths
        if decision.blocked:
            self._fail(phase, record, changes, "; ".join(decision.block_reasons()), decision, True)
            return
        trailers = phase_trailers(self.spec, phase, record.ops_applied, self.config.run_id)
        record.commit_sha = self.ws.commit_phase(phase.id, phase.title, paths, trailers)
        guard.committed(record.commit_sha)
        record.move(PhaseStatus.committed)
        if self.pr_pending:
            self._ensure_pr()
        self.progress(
            f"{prefix}: committed {record.commit_sha[:10]} ({record.ops_applied} ops, "
            f"{len(paths)} files, {record.usage.output_tokens} output tokens)"
        )
        self._publish(phase, record, decision)

    def _fail(
        self,
        phase: Phase,
        record: PhaseRecord,
        changes: ChangeSet,
        reason: str,
        decision: PhaseDecision | None = None,
        written: bool = False,
    ) -> None:
        paths = changes.changed_paths() if not written else record.changed_paths
        if paths:
            if not written:
                self.ws.write_changes({p: changes.changes[p] for p in paths})
            patch = self.ws.diff(paths)
            self.ws.discard_changes(paths)
            record.patch_file = self.forge.save_artifact(f"patches/{phase.id}.patch", patch)
        record.move(PhaseStatus.failed, reason)
        kept = f"; its changes are in {record.patch_file}" if record.patch_file else ""
        self.progress(f"  {phase.id}: failed: {reason}{kept}")
        self._publish(phase, record, decision)

    def _hold_repaired(
        self, phase: Phase, record: PhaseRecord, changes: ChangeSet, prefix: str, end: RepairEnd
    ) -> None:
        """A repair reached a protected path: undo what was written and hold (or fail) the phase
        whole; nothing protected is written."""
        self.ws.discard_changes(record.changed_paths)
        if not end.complete:
            self.gov.fail_unwritten(record, changes, self.ws, end.reason)
            self._publish(phase, record, end.decision)
            return
        self._hold_or_apply(phase, record, changes, prefix)  # applied when auto-approved

    # -- helpers ---------------------------------------------------------------------------
    def _gate_cost(self, phase: Phase, decision: PhaseDecision) -> None:
        """The test gates' cost in the phase's telemetry and the progress output."""
        if decision.cost.suite_runs or decision.cost.baseline_cache:
            self.progress(f"    tests: {decision.cost.describe()}")
        self.telemetry.add_gate_cost(phase.id, decision.cost)

    def _repair_setup(self, finalizer: Finalizer) -> RepairSetup:
        return RepairSetup(
            model=self.model,
            model_id=self.model_id,
            model_info=self.model_info,
            settings=self.budgeter.repair_settings(),
            rounds=self.config.repair_rounds,
            finalizer=finalizer,
            workspace=self.ws,
            touches_protected=self.gov.touches_protected,
            applied_count=self.gov.applied_count,
            telemetry=self.telemetry,
            progress=self.progress,
            on_op=self._on_op,
            system=self.context.system if self.context is not None else "",
            limit_usd=self.spec.budget.max_cost_usd,
        )

    def _on_op(self, result: OpResult) -> None:
        held = result.path is not None and self.gov.policy.is_protected(result.path)
        self.progress(op_line(result, held))

    def _publish(self, phase: Phase, record: PhaseRecord, decision: PhaseDecision | None) -> None:
        publish_check(self.forge, self.ws.head_sha(), self.on_event, phase, record, decision)
