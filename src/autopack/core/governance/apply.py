"""Governance: applying held ops (pure, through the FileSource port). A held phase stores exactly
its applied ops (RecordingChangeSet); approval re-applies exactly those ops with an allowance for
their paths and digests only (`reapply`); a request re-posted at a new head gets its preview
recomputed the same way (`refresh_preview`)."""

from __future__ import annotations

from collections.abc import Sequence

from autopack.core.edits.changeset import ChangeSet, FileSource, OpResult, OpStatus
from autopack.core.edits.ops import Op
from autopack.core.governance.policy import (
    CONFIG_FILE,
    GovernancePolicy,
    build_policy,
    never_approvable,
    parse_config,
)
from autopack.core.governance.requests import (
    GovernanceRequest,
    op_digest,
    op_paths,
    preview_fields,
    verify_integrity,
)
from autopack.core.spec import RunSpec
from autopack.errors import ConfigError, GovernanceError


class RecordingChangeSet(ChangeSet):
    """A ChangeSet that also keeps every applied op, so a held phase can store exactly its ops."""

    def __init__(self, source: FileSource) -> None:
        super().__init__(source)
        self.applied_ops: list[Op] = []

    def apply(self, op: Op) -> OpResult:
        result = super().apply(op)
        if result.status is OpStatus.applied:
            self.applied_ops.append(op)
        return result


def protected_ops(
    ops: Sequence[Op],
    policy: GovernancePolicy,
    allowance: frozenset[tuple[str, str]] = frozenset(),
) -> list[tuple[str, str]]:
    """(path, op digest) of each op on a protected path that `allowance` does not cover."""
    out = []
    for op in ops:
        digest = op_digest(op)
        for path in op_paths(op):
            if policy.is_protected(path) and (path, digest) not in allowance:
                out.append((path, digest))
    return out


def reapply(
    request: GovernanceRequest, source: FileSource, policy: GovernancePolicy
) -> RecordingChangeSet:
    """Re-run exactly the held ops through a fresh ChangeSet. The allowance (the request's paths and
    op digests) holds for this call only; any other protected op, or an op that no longer applies,
    raises GovernanceError."""
    verify_integrity(request)
    forbidden = sorted({p for op in request.ops for p in op_paths(op) if never_approvable(p)})
    if forbidden:  # whatever the state says: no approval can allow these
        raise GovernanceError(
            f"request {request.id}: {', '.join(forbidden)} can never be approved "
            "(.git/ and .github/workflows/ are never written)"
        )
    changes = RecordingChangeSet(source)
    for n, op in enumerate(request.ops, 1):
        if changes.done:
            changes.reopen()  # a repair turn followed an earlier 'done'
        result = changes.apply(op.model_copy(update={"id": n}))
        if result.status is not OpStatus.applied:
            raise GovernanceError(
                f"request {request.id}: held op {op.id} ({op.op}) no longer applies: "
                f"{result.reason}"
            )
    extra = protected_ops(request.ops, policy, request.allowance())
    if extra:
        paths = ", ".join(sorted({p for p, _ in extra}))
        raise GovernanceError(f"request {request.id}: ops on {paths} are not covered by it")
    return changes


def refresh_preview(
    request: GovernanceRequest, source: FileSource, policy: GovernancePolicy
) -> None:
    """Recompute a pending request's diff preview against `source` (the content at the head it is
    being posted at), replaying its held ops exactly as an approval would. When they no longer
    apply, the request is marked `stale` with the reason: it stays pending so a maintainer can
    still deny it (or it expires and the phase is rebuilt), but an approval is refused. If the
    head moves again and the ops apply once more, the mark is cleared."""
    try:
        changes = reapply(request, source, policy)
    except GovernanceError as exc:
        request.stale = str(exc).removeprefix(f"request {request.id}: ")
        request.diff_preview, request.preview_truncated = "", False
        return
    fields = preview_fields(source, changes.changes, request.paths, changes.changed_paths())
    for name, value in fields.items():
        setattr(request, name, value)
    request.changed_paths, request.stale = changes.changed_paths(), ""


def load_policy(source: FileSource, spec: RunSpec) -> GovernancePolicy:
    """Built-in defaults + the repo's `.autopack.yml` (read through the port) + the run spec."""
    data = source.read(CONFIG_FILE)
    try:
        text = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text") from None
    return build_policy(parse_config(text), spec.protected_paths)


__all__ = ["RecordingChangeSet", "load_policy", "protected_ops", "reapply", "refresh_preview"]
