"""The Action's approve_label / deny_label inputs reach the governance request comment: it names
the configured labels (local runs keep the defaults), and the configured label decides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from action_world import World, make_world, spec_body


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
