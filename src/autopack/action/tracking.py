"""The tracking comment (pure): a live checklist of the phases with their check runs and the cost so
far, plus a hidden state block from which a re-run (or the approval run) resumes. The block is
zlib-compressed JSON in base64 inside an HTML comment, so it cannot close the comment early and
stays well under GitHub's 65,535-character limit for typical runs.

The block is signed: an HMAC-SHA256 over its payload, keyed by a secret of this workflow (the
`state_key` input, else derived from the Anthropic API key). A bot login proves nothing (every
workflow with GITHUB_TOKEN comments as github-actions[bot]), so only a block whose signature
verifies is taken as this action's state; any other is ignored."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import zlib

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autopack.core.governance.comment import DEFAULT_LABELS, render_pending
from autopack.core.governance.requests import (
    AuditEntry,
    DecisionLabels,
    GovernanceRequest,
    RequestState,
)
from autopack.core.render.prompts import render
from autopack.core.render.reports import STATUS_ICON
from autopack.core.spec import RunSpec
from autopack.core.state import PhaseStatus, RunState
from autopack.core.telemetry import RunTelemetry
from autopack.errors import AutopackError

TRACKING_KEY = "tracking"
COMMENT_LIMIT = 65_535
AUDIT_SHOWN = 20  # latest audit entries listed in the comment (all are kept in the state block)
_BLOCK = re.compile(r"<!-- autopack:state:v2 sig=([0-9a-f]{64})\n([A-Za-z0-9+/=\n]+)\n-->")


class TrackingError(AutopackError):
    """The tracking comment's state block is unreadable or too large."""


def state_key(secret: str) -> bytes:
    """The signing key of the state block, derived from a secret only this workflow has."""
    return hashlib.sha256(b"autopack-state-v2\0" + secret.encode("utf-8")).digest()


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()


class FollowUpRecord(BaseModel):
    """A follow-up asked by a command comment on the PR: one phase (`phase_id`) of the run.
    `status` is its phase's status (`running` until the phase has one; `cancelled` when a cancel
    cut it short: a re-run builds it again); `reported` the status the reply last said, so a
    re-run never answers twice."""

    model_config = ConfigDict(extra="forbid")

    phase_id: str
    comment_id: int
    review: bool = False
    review_body: bool = False  # asked in a submitted review's body (no reactions there)
    number: int = Field(description="The PR the comment is on (replies go there)")
    url: str = ""
    author: str
    instruction: str = Field(description="Sanitized, on one line, cut (for the list)")
    path: str | None = None
    line: int | None = None
    status: str = "running"
    commit_sha: str | None = None
    reason: str = ""
    cost_usd: float = 0.0
    reported: str = ""


class Tracking(BaseModel):
    """What a later run of the same issue needs: the spec (a planned one is not planned again), the
    run state (phases, governance requests), the PR and the check-run links."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    run_id: str
    branch: str
    base_branch: str
    issue_number: int | None = None
    pr_number: int | None = None
    spec: RunSpec | None = None
    state: RunState | None = None
    check_urls: dict[str, str] = Field(default_factory=dict)
    telemetry: RunTelemetry | None = None
    run_url: str = ""
    conclusion: str = ""
    cost_usd: float = 0.0
    output_tokens: int = 0
    audit: list[AuditEntry] = Field(
        default_factory=list, description="The run's append-only governance audit log"
    )
    followups: list[FollowUpRecord] = Field(
        default_factory=list, description="Follow-ups asked on the PR, oldest first"
    )

    def followup(self, phase_id: str) -> FollowUpRecord | None:
        return next((f for f in self.followups if f.phase_id == phase_id), None)

    def append(self, entry: AuditEntry) -> None:
        """AuditLog: the Action keeps the audit log in the tracking comment's state block."""
        self.audit.append(entry)

    def entries(self) -> list[AuditEntry]:
        return list(self.audit)

    def unapplied_decision(self) -> GovernanceRequest | None:
        """An approved request whose phase still awaits approval: decided by a run that stopped
        before it applied the held ops (a re-run finishes it)."""
        if self.state is None:
            return None
        for r in self.state.requests:
            phase = next((p for p in self.state.phases if p.id == r.phase_id), None)
            waiting = phase is not None and phase.status is PhaseStatus.awaiting_approval
            if r.state is RequestState.approved and waiting:
                return r
        return None

    def pending_requests(self) -> list[GovernanceRequest]:
        """Every pending request, oldest first. With more than one, nothing may pick one for a
        maintainer: a decision names the request it decides."""
        if self.state is None:
            return []
        return [r for r in self.state.requests if r.state is RequestState.pending]


def encode_state(tracking: Tracking, key: bytes) -> str:
    raw = tracking.model_dump_json(exclude_defaults=False).encode("utf-8")
    packed = base64.b64encode(zlib.compress(raw, 9)).decode("ascii")
    lines = "\n".join(packed[i : i + 100] for i in range(0, len(packed), 100))
    return f"<!-- autopack:state:v2 sig={_sign(key, packed)}\n{lines}\n-->"


def signed(body: str, key: bytes) -> bool:
    """Whether `body` holds a state block signed with `key` (written by this action)."""
    match = _BLOCK.search(body)
    if match is None:
        return False
    return hmac.compare_digest(match.group(1), _sign(key, match.group(2).replace("\n", "")))


def decode_state(body: str, key: bytes) -> Tracking | None:
    """The Tracking in a comment body; None when it has no block or one not signed with `key`
    (never trusted). TrackingError if a signed block is corrupt."""
    if not signed(body, key):
        return None
    match = _BLOCK.search(body)
    assert match is not None
    try:
        raw = zlib.decompress(base64.b64decode(match.group(2).replace("\n", ""), validate=True))
        return Tracking.model_validate_json(raw)
    except (binascii.Error, zlib.error, ValueError, ValidationError) as exc:
        raise TrackingError(f"the tracking comment's state block is unreadable: {exc}") from None


def _slim(tracking: Tracking) -> Tracking:
    """A copy without the per-op results (the largest part that a resume does not need)."""
    slim = tracking.model_copy(deep=True)
    if slim.state is not None:
        for record in slim.state.phases:
            record.ops = []
    return slim


def render_tracking(tracking: Tracking, key: bytes, labels: DecisionLabels = DEFAULT_LABELS) -> str:
    """The comment body: checklist, pending requests, cost, then the state block."""
    state = tracking.state
    pending = tracking.pending_requests()
    visible = render(
        "tracking_comment.md.j2",
        t=tracking,
        phases=state.phases if state else [],
        status_icon=STATUS_ICON,
        pending=pending,
        pending_list=render_pending(pending, labels),
        audit=tracking.audit[-AUDIT_SHOWN:],
        approve_label=labels.approve,
        deny_label=labels.deny,
        command=labels.command,
        cost_usd=tracking.cost_usd,
        output_tokens=tracking.output_tokens,
    )
    body = f"{visible}\n{encode_state(tracking, key)}\n"
    if len(body) > COMMENT_LIMIT - 200:
        body = f"{visible}\n{encode_state(_slim(tracking), key)}\n"
    if len(body) > COMMENT_LIMIT - 200:
        raise TrackingError(
            f"the run state is too large for a GitHub comment ({len(body)} characters): "
            "split the work into smaller issues"
        )
    return body
