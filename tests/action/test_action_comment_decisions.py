"""#16-3: with two or more pending governance requests, one approve (or deny) label never picks one:
it is refused (removed, and answered with the list of pending requests and how to decide each). A
maintainer decides one request by id with a `/autopack approve <id>` / `/autopack deny <id>` comment,
checked like a label (role, human, after the request comment, at the request's head) and applied
through the same app/governor.apply_decision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from action_world import API_KEY, World, make_world, spec_body

from autopack.action.tracking import decode_state, state_key
from autopack.core.governance.requests import GovernanceRequest, RequestState

KEY = state_key(API_KEY)
ENV_COMMIT = "autopack(envfile): Add .env.example"
SECRETS_COMMIT = "autopack(secrets): Add a placeholder token"


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def _requests(world: World, issue: int) -> list[GovernanceRequest]:
    [tracking] = [t for c in world.state.comments_on(issue) if (t := decode_state(c["body"], KEY))]
    assert tracking.state is not None
    return tracking.state.requests


def _two_pending(world: World) -> tuple[int, int, dict[str, GovernanceRequest]]:
    """An issue whose run holds two phases: `.env.example` (high) and a secrets file (critical)."""
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Env and token", spec_body("multiply", "envfile", "secrets"))
    first = world.label_issue(n, "autopack", "maint")
    assert first.outputs["conclusion"] == "action_required", first.stdout
    [pr] = world.state.pulls()
    by_phase = {r.phase_id: r for r in _requests(world, n)}
    assert {p: r.state for p, r in by_phase.items()} == {
        "envfile": RequestState.pending,
        "secrets": RequestState.pending,
    }
    assert by_phase["envfile"].risk.value == "high"
    assert by_phase["secrets"].risk.value == "critical"
    return n, pr["number"], by_phase


@pytest.mark.parametrize("label", ["autopack:approve", "autopack:deny"])
def test_one_label_with_two_pending_requests_is_refused_with_the_list(
    world: World, label: str
) -> None:
    n, pr, by_phase = _two_pending(world)
    sent = len(world.model.message_requests)

    fired = world.label_pull(pr, label, "maint")

    assert fired.code == 0 and fired.outputs["conclusion"] == "refused", fired.stdout
    assert label not in world.state.issues[pr]["labels"]  # removed: it decided nothing
    assert world.branch_log("autopack/issue-1") == ["autopack(multiply): Add mul()"]
    assert [r.state for r in _requests(world, n)] == [RequestState.pending] * 2
    assert len(world.model.message_requests) == sent
    [reply] = [
        c for c in world.state.comments_on(pr) if "2 governance requests are pending" in c["body"]
    ]
    body = reply["body"]
    for phase, request in by_phase.items():
        assert f"`{request.id}`" in body and f"phase `{phase}`" in body
        assert f"/autopack approve {request.id}" in body and f"/autopack deny {request.id}" in body
    assert "`.env.example`" in body and "risk **high**" in body
    assert "`config/secrets/token.txt`" in body and "risk **critical**" in body
    tracking = next(c for c in world.state.comments_on(n) if decode_state(c["body"], KEY))
    assert f"/autopack approve {by_phase['envfile'].id}" in tracking["body"]


def test_a_comment_approves_exactly_the_request_it_names(world: World) -> None:
    n, pr, by_phase = _two_pending(world)
    env, secrets = by_phase["envfile"], by_phase["secrets"]
    world.label_pull(pr, "autopack:approve", "maint")  # refused: ambiguous

    fired = world.comment(pr, f"/autopack approve {env.id[:8]}", "maint")

    assert fired.code == 3, fired.stdout  # exit_codes.AWAITING_APPROVAL: secrets still waits
    assert fired.outputs["conclusion"] == "action_required", fired.stdout
    log = world.branch_log("autopack/issue-1")
    assert ENV_COMMIT in log and SECRETS_COMMIT not in log
    states = {r.phase_id: r for r in _requests(world, n)}
    assert states["envfile"].state is RequestState.approved
    assert states["envfile"].decided_by == "maint"
    assert states["secrets"].state is RequestState.pending
    assert states["secrets"].id == secrets.id  # same held ops, re-posted at the new head
    command = next(c for c in world.state.comments_on(pr) if c["body"].startswith("/autopack"))
    assert world.state.reactions(command) == ["eyes:github-actions[bot]"]
    [tracking] = [t for c in world.state.comments_on(n) if (t := decode_state(c["body"], KEY))]
    assert [(e.action, e.actor) for e in tracking.audit if e.request_id == env.id][-1:] == [
        ("approved", "maint")
    ]  # audited by the one decision path, apply_decision

    # The other request is denied by its own comment; nothing of it is ever written.
    denied = world.comment(pr, f"/autopack deny {secrets.id}", "admin")
    assert denied.code == 0 and denied.outputs["conclusion"] == "denied", denied.stdout
    assert SECRETS_COMMIT not in world.branch_log("autopack/issue-1")
    assert {r.phase_id: r.state for r in _requests(world, n)}["secrets"] is RequestState.denied


@pytest.mark.parametrize(
    ("login", "type_", "why"),
    [("tri", "User", "'triage'"), ("helper[bot]", "Bot", "bot")],
)
def test_a_comment_by_someone_who_may_not_decide_is_refused(
    world: World, login: str, type_: str, why: str
) -> None:
    n, pr, by_phase = _two_pending(world)
    fired = world.comment(pr, f"/autopack approve {by_phase['envfile'].id}", login, type_)
    assert fired.code == 0 and fired.outputs["conclusion"] == "refused", fired.stdout
    assert why in fired.stdout
    assert ENV_COMMIT not in world.branch_log("autopack/issue-1")
    assert [r.state for r in _requests(world, n)] == [RequestState.pending] * 2


def test_a_comment_older_than_the_request_or_at_another_head_is_refused(world: World) -> None:
    n, pr, by_phase = _two_pending(world)
    env = by_phase["envfile"]
    early = world.state.add_comment(pr, f"/autopack approve {env.id}", "maint")
    request_comment = next(c for c in world.state.comments_on(pr) if f"id={env.id}" in c["body"])
    request_comment["updated_at"] = world.state.tick()  # re-posted after the command was written
    payload = {
        "action": "created",
        "issue": world.gh.api.issue(world.state.issues[pr]),
        "comment": world.gh.api.comment(early),
        "sender": {"login": "maint", "type": "User"},
    }
    stale = world.fire("issue_comment", payload)
    assert stale.outputs["conclusion"] == "refused" and "older than the request" in stale.stdout

    world.human_commit("autopack/issue-1")
    moved = world.comment(pr, f"/autopack approve {env.id}", "maint")
    assert moved.outputs["conclusion"] == "refused" and "head moved" in moved.stdout, moved.stdout
    assert ENV_COMMIT not in world.branch_log("autopack/issue-1")
    assert [r.state for r in _requests(world, n)] == [RequestState.pending] * 2


def test_an_unknown_id_is_refused_naming_the_pending_requests(world: World) -> None:
    n, pr, by_phase = _two_pending(world)
    fired = world.comment(pr, "/autopack approve ffffffffffff", "maint")
    assert fired.code == 0 and fired.outputs["conclusion"] == "refused", fired.stdout
    assert "no governance request 'ffffffffffff'" in fired.stdout
    assert by_phase["envfile"].id in fired.stdout
    assert [r.state for r in _requests(world, n)] == [RequestState.pending] * 2


def test_one_pending_request_is_still_decided_by_the_label(world: World) -> None:
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul and env", spec_body("multiply", "envfile"))
    world.label_issue(n, "autopack", "maint")
    [pr] = world.state.pulls()
    ok = world.label_pull(pr["number"], "autopack:approve", "maint")
    assert ok.code == 0 and ok.outputs["conclusion"] == "success", ok.stdout
    assert ENV_COMMIT in world.branch_log("autopack/issue-1")
