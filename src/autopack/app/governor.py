"""Governance in the executor: holding a phase whose ops touch protected paths BEFORE anything is
written, re-applying exactly the held ops after approval (core/governance/apply.py), expiring stale
requests, and the decision path shared by the CLI and the Action (`apply_decision`). Everything
goes through ports (FileSource/Workspace, Forge, AuditLog, Clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from autopack.core.edits.changeset import ChangeSet, FileSource
from autopack.core.governance.apply import (
    RecordingChangeSet,
    load_policy,
    protected_ops,
    reapply,
    refresh_preview,
)
from autopack.core.governance.comment import DEFAULT_LABELS, render_request_comment
from autopack.core.governance.decide import DecisionResult, decide, expire_stale, find_request
from autopack.core.governance.policy import GovernancePolicy
from autopack.core.governance.requests import (
    AUTO_APPROVER,
    Decision,
    DecisionLabels,
    GovernanceRequest,
    RequestState,
    audit_entry,
    diff_preview,
    make_request,
)
from autopack.core.spec import Phase
from autopack.core.state import PhaseRecord, PhaseStatus, RunState
from autopack.errors import GovernanceError
from autopack.ports import AuditLog, Clock, Forge


def expire_requests(
    state: RunState,
    clock: Clock,
    ttl: timedelta,
    audit: AuditLog,
    forge: Forge,
    labels: DecisionLabels = DEFAULT_LABELS,
) -> list[GovernanceRequest]:
    """Expire the pending requests older than `ttl` (their phases go back to pending, to be
    rebuilt), log each and update its comment. Returns the expired requests."""
    expired = []
    for entry in expire_stale(state, clock.now(), ttl):
        audit.append(entry)
        request = find_request(state, entry.request_id)
        forge.upsert_comment(request.id, render_request_comment(request, labels))
        expired.append(request)
    return expired


def apply_decision(
    state: RunState,
    request_id: str,
    decision: Decision,
    actor: str,
    head_sha: str | None,
    *,
    clock: Clock,
    audit: AuditLog,
    forge: Forge,
    ttl: timedelta,
    labels: DecisionLabels = DEFAULT_LABELS,
) -> DecisionResult:
    """Expire stale requests, decide, log every outcome (refusals included) and update the request
    comment. The caller saves `state` afterwards (also after a refusal: expiry may have changed it)."""
    expire_requests(state, clock, ttl, audit, forge, labels)
    try:
        result = decide(state, request_id, decision, actor, head_sha, clock.now())
    except GovernanceError as exc:
        try:
            request = find_request(state, request_id)
        except GovernanceError:
            raise exc from None
        audit.append(audit_entry(request, "refused", actor or "?", clock.now(), str(exc)))
        raise
    for entry in result.entries:
        audit.append(entry)
    if result.changed:
        forge.upsert_comment(result.request.id, render_request_comment(result.request, labels))
    return result


Progress = Callable[[str], None]


class Governor:
    """The executor's governance step for one run."""

    def __init__(
        self,
        policy: GovernancePolicy,
        clock: Clock,
        forge: Forge,
        audit: AuditLog,
        run_id: str,
        progress: Progress,
        labels: DecisionLabels = DEFAULT_LABELS,
    ) -> None:
        self.policy, self.clock, self.forge, self.audit = policy, clock, forge, audit
        self.run_id, self.progress = run_id, progress
        self.labels = labels  # named in request comments (the Action's approve/deny inputs)
        # The executor's workspace, as handed to hold / approved_changes: `publish` reads the
        # content at the head it posts requests at through it.
        self.source: FileSource | None = None

    def new_changeset(self, source: FileSource) -> RecordingChangeSet:
        return RecordingChangeSet(source)

    def touches_protected(self, changes: ChangeSet, since: int = 0) -> bool:
        """Whether the ops applied from the `since`-th on reach a protected path (a repair
        round checks only its own: the ops before it were approved or are unprotected)."""
        ops = changes.applied_ops if isinstance(changes, RecordingChangeSet) else None
        if ops is None:
            raise GovernanceError("the executor must build phases on a RecordingChangeSet")
        return bool(protected_ops(ops[since:], self.policy))

    @staticmethod
    def applied_count(changes: ChangeSet) -> int:
        return len(changes.applied_ops) if isinstance(changes, RecordingChangeSet) else 0

    def fail_unwritten(
        self, record: PhaseRecord, changes: ChangeSet, source: FileSource, reason: str
    ) -> None:
        """Fail a phase whose ops touch protected paths without writing anything, not even to
        make its patch: the patch artifact is computed in memory."""
        patch, _ = diff_preview(source, changes.changes, changes.changed_paths())
        if patch:
            record.patch_file = self.forge.save_artifact(f"patches/{record.id}.patch", patch)
        record.move(PhaseStatus.failed, reason)
        self.progress(f"  {record.id}: failed: {reason} (nothing written: protected paths)")

    def hold(
        self,
        state: RunState,
        phase: Phase,
        record: PhaseRecord,
        changes: ChangeSet,
        source: FileSource,
    ) -> ChangeSet | None:
        """Check a built phase against the policy. Returns the change set to write: `changes` when
        no op is protected, or the re-applied held ops when auto-approved; None when the phase is
        held (its record is then `awaiting_approval` with a pending request)."""
        ops = changes.applied_ops if isinstance(changes, RecordingChangeSet) else None
        if ops is None:
            raise GovernanceError("the executor must build phases on a RecordingChangeSet")
        self.source = source
        touched = protected_ops(ops, self.policy)
        if not touched:
            return changes
        paths = sorted({p for p, _ in touched})
        request = make_request(
            run_id=self.run_id,
            phase_id=phase.id,
            ops=ops,
            protected=paths,
            changed_paths=changes.changed_paths(),
            changes=changes.changes,
            source=source,
            risk=self.policy.risk(paths),
            justification=changes.summary or "",
            created_at=self.clock.now(),
        )
        known = [
            r for r in state.requests if r.id == request.id and r.state is RequestState.pending
        ]
        request = self._add(state, request)
        if not known:
            self.audit.append(audit_entry(request, "requested", "autopack", self.clock.now()))
        record.move(PhaseStatus.awaiting_approval, f"held for approval: {', '.join(paths)}")
        self.progress(f"    held: request {request.id}, risk {request.risk.value}")
        auto = self.policy.auto_approval(request.paths, request.changed_lines, request.deletes)
        if auto.allowed and request.approvable:
            result = decide(
                state, request.id, Decision.approve, AUTO_APPROVER, None, self.clock.now()
            )
            for entry in result.entries:
                self.audit.append(entry)
            self.forge.upsert_comment(request.id, render_request_comment(request, self.labels))
            self.progress(f"    auto-approved request {request.id}")
            return self.approved_changes(state, record, source)
        return None

    def _add(self, state: RunState, request: GovernanceRequest) -> GovernanceRequest:
        now = self.clock.now()
        for old in state.requests:
            if old.id == request.id and old.state is RequestState.pending:
                return old  # the same held change again: one request, one comment
            if old.phase_id == request.phase_id and old.state is RequestState.pending:
                old.move(RequestState.superseded, None, now, f"replaced by {request.id}")
                self.audit.append(audit_entry(old, "superseded", "autopack", now, request.id))
                self.forge.upsert_comment(old.id, render_request_comment(old, self.labels))
        state.requests = [r for r in state.requests if r.id != request.id] + [request]
        return request

    def latest(self, state: RunState, phase_id: str) -> GovernanceRequest | None:
        found = [r for r in state.requests if r.phase_id == phase_id]
        return found[-1] if found else None

    def approved_changes(
        self, state: RunState, record: PhaseRecord, source: FileSource
    ) -> ChangeSet | None:
        """For a held phase: the re-applied ops when its request is approved; None while it waits
        or when it is denied. A re-apply that is refused fails the phase with the reason."""
        self.source = source
        request = self.latest(state, record.id)
        if record.status is not PhaseStatus.awaiting_approval or request is None:
            return None
        if request.state is not RequestState.approved:
            return None
        try:
            return reapply(request, source, self.policy)
        except GovernanceError as exc:
            record.move(PhaseStatus.failed, str(exc))
            self.audit.append(
                audit_entry(request, "refused", "autopack", self.clock.now(), str(exc))
            )
            return None

    def carry_over(self, previous: RunState, state: RunState) -> None:
        """A resumed run keeps the requests and the held or denied phases of the previous one.
        Pending requests older than the policy's request_ttl_hours expire first (audited, their
        comment updated): their phases are rebuilt like new ones."""
        previous = previous.model_copy(deep=True)
        self.expire(previous)
        state.requests = list(previous.requests)
        keep = {PhaseStatus.awaiting_approval, PhaseStatus.denied}
        by_id = {r.id: r for r in previous.phases if r.status in keep}
        state.phases = [by_id.get(r.id, r).model_copy(deep=True) for r in state.phases]

    def expire(self, state: RunState) -> None:
        ttl = timedelta(hours=self.policy.request_ttl_hours)
        for request in expire_requests(state, self.clock, ttl, self.audit, self.forge, self.labels):
            self.progress(
                f"governance request {request.id} ({request.phase_id}) expired: {request.reason}"
            )

    def publish(self, state: RunState, head_sha: str, source: FileSource | None = None) -> None:
        """Record the branch head in every pending request, recompute its diff preview against
        the content there (`source`, else the executor's workspace) and post (or update) its
        comment. An approval counts only at that head."""
        now = self.clock.now()
        source = source or self.source
        for request in state.requests:
            if request.state is not RequestState.pending or request.head_sha == head_sha:
                continue
            action = "posted" if request.head_sha is None else "restamped"
            request.head_sha = head_sha
            if source is not None:
                refresh_preview(request, source, self.policy)
            detail = f"held ops no longer apply: {request.stale}" if request.stale else ""
            self.audit.append(audit_entry(request, action, "autopack", now, detail))
            self.forge.upsert_comment(request.id, render_request_comment(request, self.labels))


__all__ = [
    "Governor",
    "RecordingChangeSet",
    "apply_decision",
    "load_policy",
    "protected_ops",
    "reapply",
    "refresh_preview",
    "render_request_comment",
]
