"""Governance decisions (pure core): the ONE code path that approves or denies a request, used by
`autopack approve` / `autopack deny` locally and by the Action for `autopack:approve` /
`autopack:deny` labels. `decide` checks everything before it changes anything:

- the request exists (full id or a unique prefix of at least 6 characters) and is pending;
  the same decision again changes nothing (idempotent), the opposite one is refused;
- an approval: no path is never-approvable (`.github/workflows/**`, `.git/**`), the held ops still
  match their digests and the request id, and the branch head is the SHA recorded in the request.

Approval leaves the phase `awaiting_approval` (the next resume re-applies exactly the held ops);
denial marks it `denied` and the phases waiting for it are skipped with that reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from autopack.core.governance.requests import (
    AuditEntry,
    Decision,
    GovernanceRequest,
    RequestState,
    audit_entry,
    verify_integrity,
)
from autopack.core.state import PhaseRecord, PhaseStatus, RunState
from autopack.errors import GovernanceError

MIN_ID_PREFIX = 6


def waiting_reason(phase_id: str) -> str:
    return f"waiting for approval of {phase_id}"


def denied_reason(phase_id: str, actor: str) -> str:
    return f"skipped: {phase_id} was denied by {actor}"


def blocked_reason(state: RunState, missing: list[str]) -> str:
    """Why a phase whose dependencies `missing` did not commit cannot run now."""
    for dep in missing:
        rec = state.phase(dep)
        if rec.status is PhaseStatus.denied:
            return denied_reason(dep, rec.reason.removeprefix("denied by ") or "a maintainer")
        if rec.status is PhaseStatus.blocked and rec.reason.startswith("skipped: "):
            return rec.reason
    for dep in missing:
        rec = state.phase(dep)
        if rec.status is PhaseStatus.awaiting_approval:
            return waiting_reason(dep)
        if rec.status is PhaseStatus.blocked and rec.reason.startswith("waiting for approval of "):
            return rec.reason
    return f"dependency {', '.join(missing)} did not commit"


class DecisionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: GovernanceRequest
    changed: bool
    entries: tuple[AuditEntry, ...] = ()


def find_request(state: RunState, request_id: str) -> GovernanceRequest:
    key = request_id.strip().lower()
    exact = [r for r in state.requests if r.id == key or r.hash == key]
    if exact:
        return exact[-1]
    if len(key) < MIN_ID_PREFIX:
        raise GovernanceError(
            f"no governance request {request_id!r} (give at least {MIN_ID_PREFIX} characters)"
        )
    found = [r for r in state.requests if r.id.startswith(key)]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{r.id} ({r.phase_id}, {r.state.value})" for r in state.requests)
    if not found:
        raise GovernanceError(f"no governance request {request_id!r}; known: {known or 'none'}")
    raise GovernanceError(f"request id {request_id!r} is ambiguous; known: {known}")


def held_phase(state: RunState, request: GovernanceRequest) -> PhaseRecord:
    """The phase record `request` holds; a GovernanceError when the run no longer has that phase
    (a resume with a spec without it keeps the request but drops its phase)."""
    for record in state.phases:
        if record.id == request.phase_id:
            return record
    raise GovernanceError(
        f"request {request.id} holds phase {request.phase_id!r}, which this run no longer has "
        "(the spec it was resumed with has no such phase); resume with a spec that has it to "
        "decide the request"
    )


def decide(
    state: RunState,
    request_id: str,
    decision: Decision,
    actor: str,
    head_sha: str | None,
    now: datetime,
) -> DecisionResult:
    """Approve or deny a pending request; raises GovernanceError (changing nothing) when refused."""
    request = find_request(state, request_id)
    actor = actor.strip()
    if not actor:
        raise GovernanceError("a decision needs the name of who decides (--by NAME)")
    target = RequestState.approved if decision is Decision.approve else RequestState.denied
    if request.state is target:
        return DecisionResult(request=request, changed=False)
    if request.state is not RequestState.pending:
        by = f" by {request.decided_by}" if request.decided_by else ""
        raise GovernanceError(
            f"request {request.id} is already {request.state.value}{by}; it cannot be "
            f"{target.value} now"
        )
    record = held_phase(state, request)
    if record.status is not PhaseStatus.awaiting_approval:
        raise GovernanceError(
            f"request {request.id}: phase {record.id} is {record.status.value}, "
            "not awaiting approval"
        )
    if decision is Decision.approve:
        if not request.approvable:
            raise GovernanceError(
                f"request {request.id} touches {', '.join(request.blocked_paths)}, which can never "
                "be approved (.github/workflows/** and .git/** are not writable); deny it"
            )
        verify_integrity(request)
        if request.stale:
            raise GovernanceError(
                f"request {request.id}: {request.stale}; it can only be denied (or it expires, "
                "and the phase is rebuilt)"
            )
        if head_sha != request.head_sha:
            raise GovernanceError(
                f"request {request.id} was made at head {request.head_sha or '(none)'}, but the "
                f"branch head is {head_sha or '(none)'} now; a fresh request is needed"
            )
        request.move(RequestState.approved, actor, now)
        record.reason = f"approved by {actor}; applied on resume"
    else:
        request.move(RequestState.denied, actor, now)
        record.move(PhaseStatus.denied, f"denied by {actor}")
        skipped = denied_reason(record.id, actor)
        for other in state.phases:
            if other.status is PhaseStatus.blocked and other.reason == waiting_reason(record.id):
                other.reason = skipped
    entry = audit_entry(request, target.value, actor, now, f"head {head_sha or '(none)'}")
    return DecisionResult(request=request, changed=True, entries=(entry,))


def expire_stale(state: RunState, now: datetime, ttl: timedelta) -> list[AuditEntry]:
    """Expire pending requests older than `ttl`; their phases go back to pending (rebuilt on
    resume). Returns the audit entries to append."""
    entries = []
    for request in state.requests:
        if request.state is RequestState.pending and now - request.created_at > ttl:
            request.move(RequestState.expired, None, now, f"older than {ttl}")
            record = next((p for p in state.phases if p.id == request.phase_id), None)
            if record is not None and record.status is PhaseStatus.awaiting_approval:
                record.move(PhaseStatus.pending, f"governance request {request.id} expired")
            entries.append(audit_entry(request, "expired", "autopack", now, f"older than {ttl}"))
    return entries


__all__ = [
    "DecisionResult",
    "blocked_reason",
    "decide",
    "expire_stale",
    "find_request",
    "held_phase",
    "waiting_reason",
]
