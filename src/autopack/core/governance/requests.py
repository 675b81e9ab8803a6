"""Governance requests (pure): the request a held phase produces, its lifecycle and the audit entries.

A request names the protected paths a phase's ops touch, carries those ops (serialised, in order)
with one digest per op, and is identified by a hash of run, phase, paths and op digests, so the same
held change always has the same id and any change to the ops changes it. Lifecycle:

    pending ──approve──> approved          pending ──deny──> denied
    pending ──expire──> expired            pending ──supersede──> superseded

Decided states are final. The audit log is append-only: one AuditEntry per event."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.edits.changeset import FileSource
from autopack.core.edits.ops import Op, RenameOp
from autopack.core.governance.policy import RiskLevel, never_approvable
from autopack.core.paths import check_repo_path
from autopack.errors import GovernanceError, PathPolicyError

PREVIEW_LIMIT = 8_000  # characters of diff preview kept in a request (and its comment)
APPROVE_LABEL = "autopack:approve"
DENY_LABEL = "autopack:deny"
COMMAND_PREFIX = "/autopack"
AUTO_APPROVER = "autopack[auto-approve]"


class DecisionLabels(BaseModel):
    """How a request is decided on GitHub: the label names that approve or deny it (the Action's
    approve_label and deny_label inputs) and the comment command (`<command> approve <id>`, the
    command_prefix input); local runs keep the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approve: str = Field(default=APPROVE_LABEL, min_length=1)
    deny: str = Field(default=DENY_LABEL, min_length=1)
    command: str = Field(default=COMMAND_PREFIX, min_length=1)


class RequestState(StrEnum):
    pending = "pending"
    approved = "approved"
    denied = "denied"
    expired = "expired"
    superseded = "superseded"


class Decision(StrEnum):
    approve = "approve"
    deny = "deny"


_REQUEST_MOVES: dict[RequestState, frozenset[RequestState]] = {
    RequestState.pending: frozenset(
        {
            RequestState.approved,
            RequestState.denied,
            RequestState.expired,
            RequestState.superseded,
        }
    ),
    RequestState.approved: frozenset(),
    RequestState.denied: frozenset(),
    RequestState.expired: frozenset(),
    RequestState.superseded: frozenset(),
}


def _norm(path: str) -> str:
    try:
        return check_repo_path(path)
    except PathPolicyError:
        return path


def op_paths(op: Op) -> list[str]:
    """The normalised repo paths an op writes (a rename writes both ends); manifest and done none."""
    path = getattr(op, "path", None)
    if path is None:
        return []
    return [_norm(path), _norm(op.to)] if isinstance(op, RenameOp) else [_norm(path)]


def op_digest(op: Op) -> str:
    data = op.model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def request_hash(run_id: str, phase_id: str, paths: Sequence[str], digests: Sequence[str]) -> str:
    blob = json.dumps([run_id, phase_id, sorted(paths), list(digests)], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class GovernanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(description="First 12 hex digits of `hash`")
    hash: str = Field(description="sha256 of run, phase, protected paths and op digests")
    run_id: str
    phase_id: str
    paths: list[str] = Field(description="Protected paths the held ops touch")
    changed_paths: list[str] = Field(default_factory=list, description="Every file of the phase")
    risk: RiskLevel
    justification: str = ""
    diff_preview: str = ""
    preview_truncated: bool = False
    changed_lines: int = 0
    deletes: bool = False
    ops: list[Op] = Field(description="Every applied op of the phase, in order")
    op_digests: list[str]
    head_sha: str | None = None
    created_at: datetime
    state: RequestState = RequestState.pending
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""
    stale: str = Field(
        default="",
        description="Why the held ops no longer apply at head_sha (empty: they do); an approval "
        "is refused while set, a denial is not",
    )

    @property
    def approvable(self) -> bool:
        return not self.blocked_paths

    @property
    def blocked_paths(self) -> list[str]:
        return [p for p in self.paths if never_approvable(p)]

    def allowance(self) -> frozenset[tuple[str, str]]:
        """(path, op digest) of each held op on a protected path: what an approval allows."""
        return frozenset(
            (path, digest)
            for op, digest in zip(self.ops, self.op_digests, strict=True)
            for path in op_paths(op)
            if path in self.paths
        )

    def move(self, to: RequestState, actor: str | None, at: datetime, reason: str = "") -> None:
        if to not in _REQUEST_MOVES[self.state]:
            raise GovernanceError(
                f"request {self.id} is {self.state.value}; it cannot become {to.value}"
            )
        self.state, self.decided_by, self.decided_at, self.reason = to, actor, at, reason


def verify_integrity(request: GovernanceRequest) -> None:
    """Raise GovernanceError if the stored ops no longer match the digests and id they were held
    with (an edited state file, a replaced op)."""
    digests = [op_digest(op) for op in request.ops]
    if digests != request.op_digests:
        changed = [
            op.id
            for op, d in zip(request.ops, request.op_digests, strict=False)
            if op_digest(op) != d
        ]
        raise GovernanceError(
            f"request {request.id}: the held ops changed since the request was made "
            f"(op(s) {changed or 'count'}); approve a fresh request instead"
        )
    full = request_hash(request.run_id, request.phase_id, request.paths, digests)
    if full != request.hash or not full.startswith(request.id):
        raise GovernanceError(
            f"request {request.id}: its id does not match its paths and ops; refused"
        )


def _text(data: bytes | None) -> list[str] | None:
    if data is None:
        return []
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def diff_preview(
    source: FileSource, changes: Mapping[str, bytes | None], paths: Sequence[str]
) -> tuple[str, int]:
    """A unified diff of `paths` (their new content in `changes` against `source`) and the number
    of changed lines (added + removed). Pure: reads through the FileSource port only."""
    parts: list[str] = []
    changed = 0
    for path in paths:
        old_bytes, new_bytes = source.read(path), changes.get(path)
        old, new = _text(old_bytes), _text(new_bytes)
        if old is None or new is None:
            parts.append(f"Binary file {path} changed\n")
            changed += 1
            continue
        a = "/dev/null" if old_bytes is None else f"a/{path}"
        b = "/dev/null" if new_bytes is None else f"b/{path}"
        for line in difflib.unified_diff(old, new, a, b):
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
                changed += 1
            parts.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(parts), changed


def make_request(
    *,
    run_id: str,
    phase_id: str,
    ops: Sequence[Op],
    protected: Sequence[str],
    changed_paths: Sequence[str],
    changes: Mapping[str, bytes | None],
    source: FileSource,
    risk: RiskLevel,
    justification: str,
    created_at: datetime,
    head_sha: str | None = None,
) -> GovernanceRequest:
    """A pending request for a held phase. `protected` are the protected paths its ops touch."""
    digests = [op_digest(op) for op in ops]
    paths = sorted(set(protected))
    full = request_hash(run_id, phase_id, paths, digests)
    return GovernanceRequest(
        id=full[:12],
        hash=full,
        run_id=run_id,
        phase_id=phase_id,
        paths=paths,
        changed_paths=list(changed_paths),
        risk=risk,
        justification=justification.strip(),
        ops=list(ops),
        op_digests=digests,
        head_sha=head_sha,
        created_at=created_at,
        **preview_fields(source, changes, paths, changed_paths),
    )


def preview_fields(
    source: FileSource,
    changes: Mapping[str, bytes | None],
    paths: Sequence[str],
    changed_paths: Sequence[str],
) -> dict[str, Any]:
    """diff_preview (protected paths first, capped), preview_truncated, changed_lines (protected
    paths only) and deletes of a request whose ops give `changes` over `source`."""
    ordered = list(paths) + [p for p in changed_paths if p not in paths]
    preview, _ = diff_preview(source, changes, ordered)
    _, held_lines = diff_preview(source, changes, [p for p in paths if p in changes])
    truncated = len(preview) > PREVIEW_LIMIT
    return {
        "diff_preview": preview[:PREVIEW_LIMIT] if truncated else preview,
        "preview_truncated": truncated,
        "changed_lines": held_lines,
        "deletes": any(changes.get(p, b"") is None for p in paths),
    }


class AuditEntry(BaseModel):
    """One line of the append-only audit log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime
    actor: str
    action: str = Field(
        description="requested | approved | denied | expired | superseded | refused | restamped"
    )
    request_id: str
    request_hash: str
    phase_id: str
    head_sha: str | None = None
    detail: str = ""


def audit_entry(
    request: GovernanceRequest, action: str, actor: str, at: datetime, detail: str = ""
) -> AuditEntry:
    return AuditEntry(
        at=at,
        actor=actor,
        action=action,
        request_id=request.id,
        request_hash=request.hash,
        phase_id=request.phase_id,
        head_sha=request.head_sha,
        detail=detail,
    )


class MemoryAuditLog:
    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self._entries.append(entry)

    def entries(self) -> list[AuditEntry]:
        return list(self._entries)


__all__ = [
    "APPROVE_LABEL",
    "DENY_LABEL",
    "AuditEntry",
    "Decision",
    "DecisionLabels",
    "GovernanceRequest",
    "MemoryAuditLog",
    "RequestState",
    "audit_entry",
    "diff_preview",
    "make_request",
    "op_digest",
    "preview_fields",
    "verify_integrity",
]
