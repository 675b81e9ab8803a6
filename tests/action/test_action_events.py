"""`autopack action` on events it must decline, end to end (see test_action_e2e.py)."""

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


def test_pull_request_target_is_declined_without_touching_github(world: World) -> None:
    n = world.state.create_issue("Add mul", spec_body("multiply"))
    world.state.add_label(n, "autopack:approve", "maint")
    payload = {
        "action": "labeled",
        "label": {"name": "autopack:approve"},
        "pull_request": {
            "number": n,
            "state": "open",
            "head": {"ref": "autopack/issue-1", "sha": "a" * 40},
            "base": {"ref": "main", "sha": "b" * 40},
        },
        "sender": {"login": "maint", "type": "User"},
    }
    fired = world.fire("pull_request_target", payload)
    assert fired.code == 0, fired.stdout
    assert fired.outputs["conclusion"] == "skipped"
    assert "pull_request_target runs with secrets on fork code" in fired.stdout
    assert world.state.requests == []  # not a single call to GitHub
    assert not world.model.message_requests
