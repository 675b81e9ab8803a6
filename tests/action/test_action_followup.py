"""#13 end to end: a maintainer's `/autopack <instruction>` comment on an Autopack PR becomes one
follow-up commit. Real git with a bare origin, the local GitHub server (comments, review comments,
reactions) through PyGithub, the local Messages API server through the anthropic SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git
import pytest
from action_world import API_KEY, World, make_world, spec_body

from autopack.action.tracking import Tracking, decode_state, state_key
from autopack.demo import scenario
from support.messages_server import Reply

KEY = state_key(API_KEY)
BOT = "github-actions[bot]"
MUL_OPS = scenario.RESPONSES["multiply"][0][0]
RENAME_OPS = [
    {
        "op": "edit",
        "path": "src/calc/ops.py",
        "old": "def sub(a: float, b: float) -> float:",
        "new": "def subtract(a: float, b: float) -> float:",
    },
    {
        "op": "edit",
        "path": "src/calc/__init__.py",
        "old": 'from calc.ops import add, sub\n\n__all__ = ["add", "sub"]',
        "new": 'from calc.ops import add, subtract\n\n__all__ = ["add", "subtract"]',
    },
    {"op": "edit", "path": "tests/test_ops.py", "old": "add, sub\n", "new": "add, subtract\n"},
    {"op": "edit", "path": "tests/test_ops.py", "old": "sub(5, 3)", "new": "subtract(5, 3)"},
    {"op": "manifest", "files": [{"path": "src/calc/ops.py", "symbols": ["subtract"]}]},
    {"op": "done", "summary": "Renamed sub to subtract."},
]
BREAKING_OPS = [
    {"op": "edit", "path": "src/calc/ops.py", "old": "return a + b", "new": "return a + b + 1"},
    {"op": "done", "summary": "Made add generous."},
]
ENV_OPS = [
    {"op": "write", "path": ".env.example", "content": "CALC_PRECISION=4\n"},
    {"op": "done", "summary": "Documented the precision setting."},
]


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def _reply(ops: list[dict[str, Any]], first_id: int = 1) -> Reply:
    return Reply(text=scenario.ndjson(ops, first_id))


def _opened(world: World, tests: bool = False) -> int:
    """An issue run to a ready PR (one docs phase); returns the PR number."""
    if not tests:
        world.defaults["test_command"] = "none"
    n = world.state.create_issue("Docs", spec_body("docs"))
    first = world.label_issue(n, "autopack", "maint")
    assert first.outputs["conclusion"] == "success", first.stdout
    [pr] = world.state.pulls()
    return int(pr["number"])


def _tracking(world: World) -> Tracking:
    [t] = [t for c in world.state.comments_on(1) if (t := decode_state(c["body"], KEY))]
    return t


def _snapshot(world: World) -> tuple[Any, ...]:
    reactions = [r for c in world.state.comments.values() for r in c.get("reactions", [])]
    reactions += [r for c in world.state.review_comments.values() for r in c["reactions"]]
    return (
        world.branch_log("autopack/issue-1"),
        sorted((c["id"], c["body"]) for c in world.state.comments.values()),
        len(reactions),
        len(world.state.check_runs),
        len(world.model.message_requests),
    )


def test_a_maintainer_comment_becomes_one_follow_up_commit(world: World) -> None:
    pr = _opened(world, tests=True)
    world.followup_replies.append(_reply(MUL_OPS))

    fired = world.comment(pr, "/autopack add mul(a, b)", "maint")

    assert fired.code == 0 and fired.outputs["conclusion"] == "success", fired.stdout
    command = next(
        c for c in world.state.comments.values() if c["body"] == "/autopack add mul(a, b)"
    )
    cid = command["id"]
    assert world.state.reactions(command) == [f"eyes:{BOT}", f"rocket:{BOT}"]
    log = world.branch_log("autopack/issue-1")
    assert log == [f"autopack(followup-{cid}): Follow-up asked by maint", log[1]]
    head = world.state.ref_sha("autopack/issue-1")
    commit = git.Repo(world.origin).commit(head)
    assert f"Autopack-Phase: followup-{cid}" in commit.message  # the trailer names the comment
    assert (
        "def mul(a: float, b: float)"
        in (commit.tree / "src/calc/ops.py").data_stream.read().decode()
    )
    check = world.checks()[f"Autopack / followup-{cid}"]
    assert check["conclusion"] == "success" and check["head_sha"] == head
    # the prompt: the fenced instruction, the run goal and the PR's diff so far
    prompt = world.model.message_requests[-1].message_text(0)
    assert "<untrusted-issue-text>\nadd mul(a, b)\n</untrusted-issue-text>" in prompt
    assert "Extend calc" in prompt and "<pr-diff>" in prompt and "+# Using calc" in prompt
    # the tracking comment lists it; the state block records it
    tracking = _tracking(world)
    [f] = tracking.followups
    assert (f.status, f.commit_sha, f.author, f.comment_id) == ("committed", head, "maint", cid)
    body = next(c["body"] for c in world.state.comments_on(1) if decode_state(c["body"], KEY))
    assert "### Follow-ups" in body and "add mul(a, b) · **committed**" in body
    # the PR body has its row; the reply names the commit and the cost
    assert f"`followup-{cid}`" in world.state.issues[pr]["body"]
    [reply] = [c for c in world.state.comments_on(pr) if f"autopack:followup-{cid}" in c["body"]]
    assert "🚀 Done" in reply["body"] and head[:10] in reply["body"] and "cost $" in reply["body"]

    # The same event delivered again (a re-run) makes nothing new.
    before = _snapshot(world)
    again = world.fire("issue_comment", world.last_payload)
    assert again.code == 0 and again.outputs["conclusion"] == "skipped", again.stdout
    assert "already committed" in again.stdout
    assert _snapshot(world) == before


def test_a_review_comment_is_anchored_to_the_file_and_line(world: World) -> None:
    pr = _opened(world, tests=True)
    world.followup_replies.append(_reply(RENAME_OPS))
    hunk = "@@ -5,5 +5,5 @@\n \n \n def sub(a: float, b: float) -> float:"

    fired = world.review_comment(
        pr, "/autopack rename sub to subtract", "admin", "src/calc/ops.py", 8, hunk
    )

    assert fired.code == 0 and fired.outputs["conclusion"] == "success", fired.stdout
    [c] = world.state.review_comments.values()
    assert world.state.reactions(c) == [f"eyes:{BOT}", f"rocket:{BOT}"]
    assert world.branch_log("autopack/issue-1") == [
        f"autopack(followup-review-{c['id']}): Follow-up asked by admin",
        "autopack(docs): Document the operations",
    ]  # one new commit, on top of the PR's head
    prompt = world.model.message_requests[-1].message_text(0)
    assert "### The review comment is on `src/calc/ops.py`, line 8" in prompt
    assert '<file path="src/calc/ops.py" marked-line="8">' in prompt
    assert ">>8 | def sub(a: float, b: float) -> float:" in prompt
    assert (
        "  9 |     return a - b" in prompt
        and "  4 | def add(a: float, b: float) -> float:" in prompt
    )
    assert "<diff-hunk>\n" + hunk in prompt
    [f] = _tracking(world).followups
    assert (f.path, f.line, f.review, f.status) == ("src/calc/ops.py", 8, True, "committed")


@pytest.mark.parametrize(
    ("login", "type_", "why"), [("tri", "User", "'triage'"), ("helper[bot]", "Bot", "bot")]
)
def test_a_triage_user_or_a_bot_gets_a_reply_and_no_commit(
    world: World, login: str, type_: str, why: str
) -> None:
    pr = _opened(world)
    sent, log = len(world.model.message_requests), world.branch_log("autopack/issue-1")

    fired = world.comment(pr, "/autopack add mul(a, b)", login, type_)

    assert fired.code == 0 and fired.outputs["conclusion"] == "refused", fired.stdout
    assert world.branch_log("autopack/issue-1") == log
    assert len(world.model.message_requests) == sent
    command = next(c for c in world.state.comments.values() if c["user"] == login)
    assert world.state.reactions(command) == []
    [reply] = [c for c in world.state.comments_on(pr) if "did not act on this comment" in c["body"]]
    assert why in reply["body"]
    assert _tracking(world).followups == []
    again = world.fire("issue_comment", world.last_payload)  # re-delivered: the reply is edited
    assert again.outputs["conclusion"] == "refused"
    assert [c["id"] for c in world.state.comments_on(pr) if "did not act" in c["body"]] == [
        reply["id"]
    ]


def test_comments_without_the_command_change_nothing(world: World) -> None:
    pr = _opened(world)
    before = _snapshot(world)
    for body in ("Looks good, thanks!", "please /autopack add mul", "/autopackage add mul"):
        fired = world.comment(pr, body, "maint")
        assert fired.code == 0 and fired.outputs["conclusion"] == "skipped", fired.stdout
    after = _snapshot(world)
    assert (after[0], after[2], after[3], after[4]) == (before[0], before[2], before[3], before[4])
    assert len(after[1]) == len(before[1]) + 3  # only the three comments themselves


def test_a_follow_up_that_breaks_a_test_is_not_committed_and_the_reply_names_it(
    world: World,
) -> None:
    pr = _opened(world, tests=True)
    log = world.branch_log("autopack/issue-1")
    world.followup_replies += [_reply(BREAKING_OPS), _reply([{"op": "done", "summary": "?"}], 3)]

    fired = world.comment(pr, "/autopack make add generous", "maint")

    assert fired.code == 1 and fired.outputs["conclusion"] == "failure", fired.stdout
    assert world.branch_log("autopack/issue-1") == log
    command = next(c for c in world.state.comments.values() if c["body"].startswith("/autopack"))
    assert world.state.reactions(command) == [f"eyes:{BOT}"]  # no 🚀
    [reply] = [c for c in world.state.comments_on(pr) if "autopack:followup-" in c["body"]]
    assert "❌ The follow-up was not committed" in reply["body"]
    assert "tests/test_ops.py::test_add" in reply["body"]
    assert world.checks()[f"Autopack / followup-{command['id']}"]["conclusion"] == "failure"
    [f] = _tracking(world).followups
    assert f.status == "failed" and "test_add" in f.reason


def test_a_held_follow_up_waits_for_a_comment_approval(world: World) -> None:
    pr = _opened(world)
    world.followup_replies.append(_reply(ENV_OPS))
    held = world.comment(pr, "/autopack document the precision setting", "maint")
    assert held.outputs["conclusion"] == "action_required", held.stdout
    [request] = _tracking(world).state.requests  # type: ignore[union-attr]
    [reply] = [c for c in world.state.comments_on(pr) if "autopack:followup-" in c["body"]]
    assert "🔒" in reply["body"] and f"/autopack approve {request.id}" in reply["body"]
    assert ".env.example" in reply["body"]

    ok = world.comment(pr, f"/autopack approve {request.id}", "admin")

    assert ok.outputs["conclusion"] == "success", ok.stdout
    head = world.state.ref_sha("autopack/issue-1")
    [f] = _tracking(world).followups
    assert (f.status, f.commit_sha) == ("committed", head)
    [reply] = [c for c in world.state.comments_on(pr) if "autopack:followup-" in c["body"]]
    assert "🚀 Done" in reply["body"]  # the same reply, edited
    command = next(
        c for c in world.state.comments.values() if c["body"].startswith("/autopack doc")
    )
    assert f"rocket:{BOT}" in world.state.reactions(command)


def test_the_cost_cap_applies_to_a_follow_up(world: World) -> None:
    pr = _opened(world)
    log = world.branch_log("autopack/issue-1")
    world.followup_replies.append(_reply(MUL_OPS))
    fired = world.comment(pr, "/autopack add mul(a, b)", "maint", max_cost_usd="0.0001")
    assert fired.outputs["conclusion"] == "failure", fired.stdout
    assert world.branch_log("autopack/issue-1") == log
    [reply] = [c for c in world.state.comments_on(pr) if "autopack:followup-" in c["body"]]
    assert "(blocked)" in reply["body"] and "budget" in reply["body"]


def test_a_comment_on_a_pr_of_another_branch_is_ignored(world: World) -> None:
    pr = _opened(world)
    world.state.issues[pr]["pull"]["head"] = "feature/x"  # a human's PR
    fired = world.comment(pr, "/autopack add mul(a, b)", "maint")
    assert fired.outputs["conclusion"] == "skipped" and "not an Autopack PR" in fired.stdout


def test_a_review_body_becomes_one_follow_up_answered_by_a_reply(world: World) -> None:
    """A submitted review ("Request changes", "Comment") whose body is the command: one follow-up
    commit; GitHub has no reactions on a review, so the reply comment is the only answer."""
    pr = _opened(world, tests=True)
    world.followup_replies.append(_reply(MUL_OPS))

    fired = world.review(pr, "/autopack add mul(a, b)", "maint", state="changes_requested")

    assert fired.code == 0 and fired.outputs["conclusion"] == "success", fired.stdout
    rid = world.last_payload["review"]["id"]
    log = world.branch_log("autopack/issue-1")
    assert log[0] == f"autopack(followup-pr-review-{rid}): Follow-up asked by maint"
    assert len(log) == 2
    assert not [r for c in world.state.comments.values() for r in c.get("reactions", [])]
    assert "could not react" not in fired.stdout
    [reply] = [
        c for c in world.state.comments_on(pr) if f"autopack:followup-pr-review-{rid}" in c["body"]
    ]
    assert "🚀 Done" in reply["body"]
    [f] = _tracking(world).followups
    assert (f.comment_id, f.review, f.review_body, f.status) == (rid, False, True, "committed")

    before = _snapshot(world)
    again = world.fire("pull_request_review", world.last_payload)
    assert again.code == 0 and again.outputs["conclusion"] == "skipped", again.stdout
    assert _snapshot(world) == before


def test_a_review_without_the_command_or_not_submitted_changes_nothing(world: World) -> None:
    pr = _opened(world)
    before = _snapshot(world)
    plain = world.review(pr, "Looks good to me", "maint", state="approved")
    assert plain.code == 0 and plain.outputs["conclusion"] == "skipped"
    edited = world.fire("pull_request_review", {**world.last_payload, "action": "edited"})
    assert edited.code == 0 and "with action 'edited'" in edited.stdout
    assert _snapshot(world) == before
