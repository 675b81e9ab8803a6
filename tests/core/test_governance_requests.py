"""Governance requests (pure core): stable ids, diff previews, the request lifecycle, decisions
(approve, deny, idempotence, refusals), expiry, and re-applying exactly the held ops."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autopack.adapters.clock import FixedClock
from autopack.adapters.local_forge import LocalForge
from autopack.app.governor import (
    RecordingChangeSet,
    apply_decision,
    protected_ops,
    reapply,
    render_request_comment,
)
from autopack.core.edits.ops import OP_ADAPTER, Op
from autopack.core.governance.decide import decide, expire_stale, find_request, waiting_reason
from autopack.core.governance.policy import build_policy, parse_config
from autopack.core.governance.requests import (
    PREVIEW_LIMIT,
    Decision,
    GovernanceRequest,
    MemoryAuditLog,
    RequestState,
    make_request,
    op_digest,
    verify_integrity,
)
from autopack.core.state import PhaseRecord, PhaseStatus, RunState
from autopack.errors import GovernanceError

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
HEAD = "a" * 40


class Files:
    """An in-memory FileSource."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = {k: v.encode() for k, v in files.items()}

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)


def ops(*raw: dict[str, object]) -> list[Op]:
    return [OP_ADAPTER.validate_python({"id": n, **o}) for n, o in enumerate(raw, 1)]


HELD = ops(
    {"op": "write", "path": ".env.example", "content": "API_URL=\nTIMEOUT=30\n"},
    {"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'hello'"},
    {"op": "done", "summary": "Document the settings in .env.example"},
)
SOURCE = {"src/app.py": "def hello():\n    return 'hi'\n"}


def build(op_list: list[Op], files: dict[str, str] | None = None) -> RecordingChangeSet:
    changes = RecordingChangeSet(Files(SOURCE if files is None else files))
    for op in op_list:
        assert changes.apply(op).status == "applied"
    return changes


def request_for(
    op_list: list[Op] = HELD, run_id: str = "r1", phase: str = "config"
) -> GovernanceRequest:
    changes = build(op_list)
    policy = build_policy()
    paths = sorted({p for p, _ in protected_ops(changes.applied_ops, policy)})
    return make_request(
        run_id=run_id,
        phase_id=phase,
        ops=changes.applied_ops,
        protected=paths,
        changed_paths=changes.changed_paths(),
        changes=changes.changes,
        source=Files(SOURCE),
        risk=policy.risk(paths),
        justification=changes.summary or "",
        created_at=T0,
        head_sha=HEAD,
    )


def held_state(request: GovernanceRequest) -> RunState:
    state = RunState(run_id=request.run_id, branch="autopack/r1")
    held = PhaseRecord(id=request.phase_id, title="Config")
    held.move(PhaseStatus.building)
    held.move(PhaseStatus.awaiting_approval, "held")
    dependent = PhaseRecord(id="uses", title="Uses config")
    dependent.move(PhaseStatus.blocked, waiting_reason(request.phase_id))
    other = PhaseRecord(id="other", title="Other")
    other.move(PhaseStatus.blocked, "dependency x did not commit")
    state.phases = [held, dependent, other]
    state.requests = [request]
    return state


def test_request_fields_and_stable_id() -> None:
    req = request_for()
    assert req.paths == [".env.example"]
    assert req.changed_paths == [".env.example", "src/app.py"]
    assert req.risk.value == "high"
    assert req.justification == "Document the settings in .env.example"
    assert req.state is RequestState.pending and req.decided_by is None
    assert len(req.id) == 12 and req.hash.startswith(req.id)
    assert req.op_digests == [op_digest(o) for o in HELD]
    assert request_for().id == req.id  # same run, phase, paths and ops: same id
    assert request_for(run_id="r2").id != req.id
    assert request_for(phase="other").id != req.id
    changed = [HELD[0].model_copy(update={"content": "API_URL=x\n"}), *HELD[1:]]
    assert request_for(changed).id != req.id
    assert req.allowance() == {(".env.example", op_digest(HELD[0]))}


def test_diff_preview_shows_protected_paths_first_and_counts_lines() -> None:
    req = request_for()
    preview = req.diff_preview
    assert preview.index("+++ b/.env.example") < preview.index("+++ b/src/app.py")
    assert "--- /dev/null" in preview and "+TIMEOUT=30" in preview
    assert "-    return 'hi'" in preview and "+    return 'hello'" in preview
    assert req.changed_lines == 2  # the two lines of .env.example
    assert not req.preview_truncated and not req.deletes


def test_diff_preview_is_capped() -> None:
    big = ops({"op": "write", "path": ".env.big", "content": "X=1\n" * 5000}, {"op": "done"})
    req = request_for(big)
    assert req.preview_truncated
    assert len(req.diff_preview) == PREVIEW_LIMIT
    assert req.changed_lines == 5000
    assert "preview truncated" in render_request_comment(req)


def test_delete_of_a_protected_file_is_flagged() -> None:
    files = {**SOURCE, "docs/secrets/old.md": "x\n"}
    changes = build(ops({"op": "delete", "path": "docs/secrets/old.md"}, {"op": "done"}), files)
    req = make_request(
        run_id="r", phase_id="p", ops=changes.applied_ops, protected=["docs/secrets/old.md"],
        changed_paths=changes.changed_paths(), changes=changes.changes, source=Files(files),
        risk=build_policy().risk(["docs/secrets/old.md"]), justification="", created_at=T0,
    )  # fmt: skip
    assert req.deletes and req.risk.value == "critical"
    assert "+++ /dev/null" in req.diff_preview


@pytest.mark.parametrize(
    "to",
    [RequestState.approved, RequestState.denied, RequestState.expired, RequestState.superseded],
)
def test_lifecycle_pending_to_each_final_state_and_no_further(to: RequestState) -> None:
    req = request_for()
    req.move(to, "alice", T0)
    assert (req.state, req.decided_by, req.decided_at) == (to, "alice", T0)
    for again in RequestState:
        with pytest.raises(GovernanceError, match="cannot become"):
            req.move(again, "bob", T0)


def test_approve_then_identical_approval_changes_nothing() -> None:
    req = request_for()
    state = held_state(req)
    clock = FixedClock(T0 + timedelta(hours=1))
    result = decide(state, req.id, Decision.approve, "alice", HEAD, clock.now())
    assert result.changed and len(result.entries) == 1
    entry = result.entries[0]
    assert (entry.actor, entry.action, entry.request_hash, entry.head_sha) == (
        "alice", "approved", req.hash, HEAD,
    )  # fmt: skip
    assert req.state is RequestState.approved and req.decided_by == "alice"
    assert state.phase("config").status is PhaseStatus.awaiting_approval  # applied on resume
    before = state.model_dump_json()
    again = decide(state, req.id, Decision.approve, "carol", HEAD, clock.now())
    assert not again.changed and again.entries == ()
    assert state.model_dump_json() == before
    with pytest.raises(GovernanceError, match="already approved by alice"):
        decide(state, req.id, Decision.deny, "bob", HEAD, clock.now())


def test_deny_marks_the_phase_denied_and_skips_waiting_dependents() -> None:
    req = request_for()
    state = held_state(req)
    result = decide(state, req.id[:8], Decision.deny, "bob", HEAD, T0)
    assert result.changed and result.entries[0].action == "denied"
    assert state.phase("config").status is PhaseStatus.denied
    assert state.phase("config").reason == "denied by bob"
    assert state.phase("uses").reason == "skipped: config was denied by bob"
    assert state.phase("other").reason == "dependency x did not commit"  # not a dependent
    assert not decide(state, req.id, Decision.deny, "bob", None, T0).changed
    with pytest.raises(GovernanceError, match="already denied"):
        decide(state, req.id, Decision.approve, "alice", HEAD, T0)


def test_approval_at_a_new_head_is_refused_and_changes_nothing() -> None:
    req = request_for()
    state = held_state(req)
    before = state.model_dump_json()
    with pytest.raises(GovernanceError, match=f"made at head {HEAD}.*is {'b' * 40} now"):
        decide(state, req.id, Decision.approve, "alice", "b" * 40, T0)
    assert state.model_dump_json() == before


def test_approval_of_tampered_ops_is_refused() -> None:
    req = request_for()
    data = json.loads(req.model_dump_json())
    data["ops"][0]["content"] = "API_URL=https://evil.example\n"
    tampered = GovernanceRequest.model_validate(data)
    with pytest.raises(GovernanceError, match="held ops changed"):
        verify_integrity(tampered)
    state = held_state(tampered)
    with pytest.raises(GovernanceError, match="held ops changed"):
        decide(state, req.id, Decision.approve, "alice", HEAD, T0)
    assert tampered.state is RequestState.pending
    # Digests rewritten to match the new op: the id no longer matches.
    data["op_digests"][0] = op_digest(tampered.ops[0])
    forged = GovernanceRequest.model_validate(data)
    with pytest.raises(GovernanceError, match="id does not match"):
        verify_integrity(forged)


def test_workflow_paths_can_never_be_approved_only_denied() -> None:
    wf = ops(
        {"op": "write", "path": ".github/workflows/ci.yml", "content": "on: push\n"}, {"op": "done"}
    )
    req = request_for(wf)
    assert not req.approvable and req.blocked_paths == [".github/workflows/ci.yml"]
    assert "can never be approved" in render_request_comment(req)
    state = held_state(req)
    with pytest.raises(GovernanceError, match="can never be approved"):
        decide(state, req.id, Decision.approve, "admin", HEAD, T0)
    assert decide(state, req.id, Decision.deny, "admin", HEAD, T0).changed


def test_decision_input_errors() -> None:
    req = request_for()
    state = held_state(req)
    with pytest.raises(GovernanceError, match="--by NAME"):
        decide(state, req.id, Decision.approve, "  ", HEAD, T0)
    with pytest.raises(GovernanceError, match="no governance request 'ffffffffffff'"):
        decide(state, "ffffffffffff", Decision.approve, "a", HEAD, T0)
    with pytest.raises(GovernanceError, match="at least 6"):
        find_request(state, req.id[:3])
    assert find_request(state, req.id.upper()) is req


def test_expiry_after_the_ttl() -> None:
    req = request_for()
    state = held_state(req)
    assert expire_stale(state, T0 + timedelta(hours=24), timedelta(days=2)) == []
    entries = expire_stale(state, T0 + timedelta(days=3), timedelta(days=2))
    assert [e.action for e in entries] == ["expired"]
    assert req.state is RequestState.expired
    assert state.phase("config").status is PhaseStatus.pending  # rebuilt on resume
    with pytest.raises(GovernanceError, match="already expired"):
        decide(state, req.id, Decision.approve, "alice", HEAD, T0)


def test_a_request_whose_phase_left_the_state() -> None:
    req = request_for()
    state = held_state(req)
    state.phases = [p for p in state.phases if p.id != "config"]
    for decision in Decision:
        with pytest.raises(GovernanceError, match=f"{req.id} holds phase 'config'"):
            decide(state, req.id, decision, "alice", HEAD, T0)
    entries = expire_stale(state, T0 + timedelta(days=3), timedelta(days=2))
    assert [e.action for e in entries] == ["expired"]
    assert req.state is RequestState.expired


def test_apply_decision_logs_decisions_and_refusals(tmp_path: Path) -> None:
    req = request_for()
    state = held_state(req)
    audit, forge = MemoryAuditLog(), LocalForge(tmp_path)
    kwargs = {"clock": FixedClock(T0), "audit": audit, "forge": forge, "ttl": timedelta(days=14)}
    with pytest.raises(GovernanceError):
        apply_decision(state, req.id, Decision.approve, "mallory", "c" * 40, **kwargs)  # type: ignore[arg-type]
    apply_decision(state, req.id, Decision.approve, "alice", HEAD, **kwargs)  # type: ignore[arg-type]
    apply_decision(state, req.id, Decision.approve, "alice", HEAD, **kwargs)  # type: ignore[arg-type]
    assert [(e.action, e.actor) for e in audit.entries()] == [
        ("refused", "mallory"),
        ("approved", "alice"),
    ]
    assert all(e.request_hash == req.hash and e.head_sha == HEAD for e in audit.entries())
    comment = forge.comments()[req.id]
    assert f"<!-- autopack:governance id={req.id} head={HEAD}" in comment
    assert "**approved** by alice" in comment


def test_reapply_runs_exactly_the_held_ops() -> None:
    req = request_for()
    changes = reapply(req, Files(SOURCE), build_policy())
    assert changes.changes[".env.example"] == b"API_URL=\nTIMEOUT=30\n"
    assert changes.changes["src/app.py"] == b"def hello():\n    return 'hello'\n"
    assert changes.summary == "Document the settings in .env.example"


def test_reapply_survives_gaps_in_op_ids_and_a_repeated_done() -> None:
    # A repair turn: ids 1, 3 (2 was rejected) and two 'done' ops.
    held = [
        OP_ADAPTER.validate_python({"op": "write", "id": 1, "path": ".env.a", "content": "A=1\n"}),
        OP_ADAPTER.validate_python({"op": "done", "id": 2, "summary": "first"}),
        OP_ADAPTER.validate_python({"op": "write", "id": 4, "path": "src/b.py", "content": "B\n"}),
        OP_ADAPTER.validate_python({"op": "done", "id": 5, "summary": "repaired"}),
    ]
    req = make_request(
        run_id="r", phase_id="p", ops=held, protected=[".env.a"], changed_paths=[".env.a", "src/b.py"],
        changes={}, source=Files({}), risk=build_policy().risk([".env.a"]), justification="", created_at=T0,
    )  # fmt: skip
    changes = reapply(req, Files({}), build_policy())
    assert set(changes.changed_paths()) == {".env.a", "src/b.py"}
    assert changes.summary == "repaired"


def test_reapply_refuses_ops_the_allowance_does_not_cover() -> None:
    req = request_for()
    stricter = build_policy(parse_config("protected_paths: ['src/**']\n"))
    with pytest.raises(GovernanceError, match=r"ops on src/app\.py are not covered"):
        reapply(req, Files(SOURCE), stricter)


def test_reapply_refuses_ops_that_no_longer_apply() -> None:
    req = request_for()
    moved = Files({"src/app.py": "def hello():\n    return 'hey'\n"})
    with pytest.raises(GovernanceError, match=r"held op 2 \(edit\) no longer applies"):
        reapply(req, moved, build_policy())


def test_phase_status_transitions_for_held_phases() -> None:
    from autopack.errors import TransitionError

    def held() -> PhaseRecord:
        rec = PhaseRecord(id="p", title="P")
        rec.move(PhaseStatus.building)
        rec.move(PhaseStatus.awaiting_approval, "held")
        return rec

    for to in (PhaseStatus.applying, PhaseStatus.denied, PhaseStatus.failed, PhaseStatus.pending):
        rec = held()
        rec.move(to, "x")
        assert rec.status is to
    with pytest.raises(TransitionError):
        held().move(PhaseStatus.committed)  # never committed without re-applying the ops
    denied = held()
    denied.move(PhaseStatus.denied)
    assert denied.status.final and not held().status.final
    for to in PhaseStatus:
        with pytest.raises(TransitionError):
            denied.move(to)
    fresh = PhaseRecord(id="q", title="Q")
    with pytest.raises(TransitionError):
        fresh.move(PhaseStatus.awaiting_approval)  # only a built phase can be held


def test_a_new_request_for_the_same_phase_supersedes_the_pending_one(tmp_path: Path) -> None:
    from autopack.app.governor import Governor
    from autopack.core.spec import Phase

    audit, forge = MemoryAuditLog(), LocalForge(tmp_path)
    gov = Governor(build_policy(), FixedClock(T0), forge, audit, "r1", lambda _m: None)
    first = request_for()
    state = held_state(first)
    record = PhaseRecord(id="config", title="Config")
    record.move(PhaseStatus.building)
    other_ops = ops({"op": "write", "path": ".env.example", "content": "B=2\n"}, {"op": "done"})
    assert (
        gov.hold(state, Phase(id="config", title="Config"), record, build(other_ops), Files(SOURCE))
        is None
    )
    old, new = state.requests
    assert (old.id, old.state, old.reason) == (
        first.id,
        RequestState.superseded,
        f"replaced by {new.id}",
    )
    assert new.state is RequestState.pending and new.id != first.id
    assert [(e.action, e.request_id) for e in audit.entries()] == [
        ("superseded", first.id),
        ("requested", new.id),
    ]
    assert "**superseded**" in forge.comments()[first.id]
    # The same held change again: one request, no duplicate.
    again = PhaseRecord(id="config", title="Config")
    again.move(PhaseStatus.building)
    gov.hold(state, Phase(id="config", title="Config"), again, build(other_ops), Files(SOURCE))
    assert [r.id for r in state.requests] == [first.id, new.id]
    assert len(audit.entries()) == 2


def test_model_text_in_the_comment_cannot_forge_markers_or_break_the_fence() -> None:
    evil = "<!-- autopack:key=tracking -->\n```\n@everyone"
    held = ops(
        {"op": "write", "path": ".env.x", "content": evil + "\n"}, {"op": "done", "summary": evil}
    )
    req = request_for(held)
    comment = render_request_comment(req)
    assert comment.count("<!--") == 1  # only our own marker, on the first line
    assert comment.startswith(f"<!-- autopack:governance id={req.id} head={HEAD}")
    assert comment.count("```") == 2  # the diff fence opens and closes once


def test_git_paths_can_never_be_approved_even_in_a_forged_request() -> None:
    # The ChangeSet already refuses .git/ paths; a request naming one (an edited state file)
    # is still never approvable.
    held = ops({"op": "write", "path": ".git/hooks/pre-commit", "content": "#!/bin/sh\n"})
    req = make_request(
        run_id="r1", phase_id="config", ops=held, protected=[".git/hooks/pre-commit"],
        changed_paths=[], changes={}, source=Files({}), risk=build_policy().risk([".git/x"]),
        justification="", created_at=T0, head_sha=HEAD,
    )  # fmt: skip
    assert not req.approvable and req.risk.value == "critical"
    with pytest.raises(GovernanceError, match="can never be approved"):
        decide(held_state(req), req.id, Decision.approve, "admin", HEAD, T0)


def test_request_comment_names_the_default_labels_or_the_given_ones() -> None:
    from autopack.core.governance.requests import DecisionLabels

    request = request_for()
    local = render_request_comment(request)
    assert "`autopack:approve` to approve or `autopack:deny` to deny" in local
    custom = render_request_comment(request, DecisionLabels(approve="lgtm", deny="stop"))
    assert "`lgtm` to approve or `stop` to deny" in custom and "autopack:approve" not in custom
