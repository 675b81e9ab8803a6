"""Governance in the Action: the approve_label / deny_label inputs reach the request comment (it
names the configured labels; local runs keep the defaults) and the configured label decides; stale
requests expire before a run acts, with the audit log kept in the tracking comment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from action_world import World, make_world, spec_body

from autopack.action.tracking import decode_state, encode_state


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def test_request_comment_names_the_configured_labels_and_they_decide(world: World) -> None:
    world.defaults.update(test_command="none", approve_label="ship-it", deny_label="no-go")
    n = world.state.create_issue("Mul and owners", spec_body("multiply", "owners"))
    first = world.label_issue(n, "autopack", "maint")
    assert first.outputs["conclusion"] == "action_required", first.stdout
    [pr] = world.state.pulls()
    [request] = [c for c in world.state.comments.values() if "autopack:governance" in c["body"]]
    body = request["body"]
    assert "add the label `ship-it` to approve or `no-go` to deny" in body
    assert "autopack:approve" not in body and "autopack:deny" not in body

    ok = world.label_pull(pr["number"], "ship-it", "maint")
    assert ok.code == 0 and ok.outputs["conclusion"] == "success", ok.stdout
    assert "autopack(owners): Add CODEOWNERS" in world.branch_log("autopack/issue-1")
    [decided] = [c for c in world.state.comments.values() if "autopack:governance" in c["body"]]
    assert "**approved** by maint" in decided["body"]


def test_an_expired_request_is_refused_and_audited_in_the_tracking_comment(world: World) -> None:
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul and owners", spec_body("multiply", "owners"))
    world.label_issue(n, "autopack", "maint")
    [pr] = world.state.pulls()
    [tracking_comment] = [c for c in world.state.comments.values() if decode_state(c["body"])]
    tracking = decode_state(tracking_comment["body"])
    assert tracking is not None and tracking.state is not None
    assert [e.action for e in tracking.audit] == ["requested", "posted"]
    [request] = tracking.state.requests
    request.created_at -= timedelta(days=15)  # the default TTL is 14 days
    old = tracking_comment["body"]
    start, end = old.index("<!-- autopack:state:v1"), old.rindex("-->") + 3
    tracking_comment["body"] = old[:start] + encode_state(tracking) + old[end:]

    late = world.label_pull(pr["number"], "autopack:approve", "maint")
    assert late.code == 0 and late.outputs["conclusion"] == "refused", late.stdout
    assert "is already expired" in late.stdout
    assert "autopack(owners): Add CODEOWNERS" not in world.branch_log("autopack/issue-1")
    after = decode_state(world.state.comments[tracking_comment["id"]]["body"])
    assert after is not None and after.state is not None
    assert [e.action for e in after.audit][-2:] == ["expired", "refused"]
    assert after.state.requests[0].state.value == "expired"
    assert after.state.phase("owners").status.value == "pending"
    body = world.state.comments[tracking_comment["id"]]["body"]
    assert "Governance audit log" in body and "**expired**" in body
    [comment] = [c for c in world.state.comments.values() if "autopack:governance" in c["body"]]
    assert "**expired**" in comment["body"] and "How to decide" not in comment["body"]

    # A re-run rebuilds the phase and holds it again with a fresh request.
    again = world.label_issue(n, "autopack", "maint")
    assert again.outputs["conclusion"] == "action_required", again.stdout
    final = decode_state(world.state.comments[tracking_comment["id"]]["body"])
    assert final is not None and final.state is not None
    assert final.state.requests[-1].state.value == "pending"


def test_an_approval_run_without_an_api_key_applies_the_held_phase(world: World) -> None:
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul and owners", spec_body("multiply", "owners"))
    world.label_issue(n, "autopack", "maint")
    sent = len(world.model.message_requests)
    [pr] = world.state.pulls()
    world.defaults["anthropic_api_key"] = ""  # the approval run needs no model
    ok = world.label_pull(pr["number"], "autopack:approve", "maint")
    assert ok.code == 0 and ok.outputs["conclusion"] == "success", ok.stdout
    assert "autopack(owners): Add CODEOWNERS" in world.branch_log("autopack/issue-1")
    assert len(world.model.message_requests) == sent
