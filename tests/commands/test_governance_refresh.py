"""A pending request re-posted at a new branch head gets its diff preview recomputed from the held
ops replayed against the content there (as an approval would replay them); when they no longer
apply, the comment says so and only a denial is accepted. Real git repo, replay model, real CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_governance_cli import ENV_TEXT, OPS, SPEC, World, held_request_id

from autopack.adapters.governance_store import LocalGovernanceStore

APP = "def hello():\n    return 'hi'\n"  # the git_repo fixture's src/app.py


@pytest.fixture
def world(git_repo: Path, tmp_path: Path) -> World:
    return World(git_repo, tmp_path, SPEC, OPS)


def comment(w: World, rid: str) -> str:
    return (w.out / "comments" / f"{rid}.md").read_text(encoding="utf-8")


def test_restamped_request_shows_the_diff_against_the_new_head(world: World) -> None:
    w = world
    assert (w.repo / "src/app.py").read_text() == APP
    w.cli("run")
    rid = held_request_id(w)
    first = w.state().requests[0].diff_preview
    assert "--- /dev/null\n+++ b/.env.example" in first
    # A maintainer commits on the run branch: .env.example now exists, src/app.py gained a line.
    w.commit(".env.example", "OLD=1\n", "human: env")
    w.commit("src/app.py", "# edited by a human\n" + APP, "human: app")
    w.cli("resume")  # exit 1: the held phase still waits
    req = w.state().requests[0]
    assert req.id == rid and req.head_sha == w.git.commit("autopack/g1").hexsha
    assert "--- a/.env.example\n+++ b/.env.example" in req.diff_preview
    assert "-OLD=1\n" in req.diff_preview and "+TIMEOUT=30\n" in req.diff_preview
    assert " # edited by a human\n" in req.diff_preview and not req.stale
    assert req.changed_lines == 4  # 3 added, 1 removed on the protected path
    assert "-OLD=1" in comment(w, rid)
    assert w.audit()[-1] == ("restamped", "autopack")
    # The preview is what approval applies.
    assert w.cli("approve", rid, "--by", "alice") == 0
    w.cli("resume")
    assert w.statuses()["config"][0] == "committed"
    assert (w.repo / ".env.example").read_text() == ENV_TEXT
    assert (w.repo / "src/app.py").read_text() == "# edited by a human\n" + APP.replace(
        "hi", "hello"
    )


def test_held_ops_that_no_longer_apply_can_only_be_denied(world: World, capsys: Any) -> None:
    w = world
    w.cli("run")
    rid = held_request_id(w)
    w.commit("src/app.py", "def hello():\n    return 'hey'\n", "human: app")  # 'hi' is gone
    w.cli("resume")
    req = w.state().requests[0]
    assert req.state.value == "pending" and req.head_sha == w.git.commit("autopack/g1").hexsha
    assert "no longer applies" in req.stale and req.diff_preview == ""
    text = comment(w, rid)
    assert "no longer apply at head" in text and "approving is refused" in text
    assert "autopack approve" not in text and f"autopack deny {rid}" in text
    assert w.audit()[-1][0] == "restamped"
    entry = LocalGovernanceStore(w.out).entries()[-1]
    assert entry.detail.startswith("held ops no longer apply: held op 3 (edit)")
    capsys.readouterr()
    assert w.cli("approve", rid, "--by", "alice") == 1
    assert "can only be denied" in capsys.readouterr().err
    assert w.state().requests[0].state.value == "pending"
    assert not (w.repo / ".env.example").exists()

    # The head moves again and the ops apply once more: the mark is cleared.
    w.commit("src/app.py", APP, "human: back to hi")
    w.cli("resume")
    req = w.state().requests[0]
    assert req.stale == "" and "+API_URL=" in req.diff_preview
    assert "autopack approve" in comment(w, rid)

    # A stale request can be denied.
    w.commit("src/app.py", "def hello():\n    return 'hey'\n", "human: app again")
    w.cli("resume")
    assert w.state().requests[0].stale
    assert w.cli("deny", rid, "--by", "bob") == 0
    assert w.statuses()["config"] == ("denied", "denied by bob")


def backdate_requests(w: World, hours: float) -> None:
    store = LocalGovernanceStore(w.out)
    state = store.load_state()
    for request in state.requests:
        request.created_at -= timedelta(hours=hours)
    store.save_state(state)


def test_resume_expires_stale_requests_first_and_rebuilds_their_phase(world: World) -> None:
    w = world
    w.commit(".autopack.yml", "request_ttl_hours: 2\n", "governance config")
    w.cli("run")
    rid = held_request_id(w)
    backdate_requests(w, 1)  # within the TTL: nothing expires
    w.cli("resume")
    assert [r.state.value for r in w.state().requests] == ["pending"]
    assert "expired" not in [a for a, _ in w.audit()]

    backdate_requests(w, 2)  # now 3 hours old
    w.cli("resume")
    actions = [a for a, _ in w.audit()]
    assert actions[-3:] == ["expired", "requested", "posted"], actions
    [entry] = [e for e in LocalGovernanceStore(w.out).entries() if e.action == "expired"]
    assert entry.request_id == rid and entry.actor == "autopack" and "2:00:00" in entry.detail
    # the phase was rebuilt (same ops, so the same id) and is held again by a fresh request
    [req] = w.state().requests
    assert req.state.value == "pending" and req.head_sha is not None
    assert datetime.now(UTC) - req.created_at < timedelta(minutes=5)
    assert w.statuses()["config"][0] == "awaiting_approval"
    assert not (w.repo / ".env.example").exists()
