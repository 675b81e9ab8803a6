"""Comment events -> intents (pure): `issue_comment` and `pull_request_review_comment` with the
command prefix become a decision (approve/deny <id>) or a follow-up; anything else is ignored with a
reason."""

from __future__ import annotations

from typing import Any

import pytest

from autopack.action.events import DecideRequest, FollowUpRequest, Ignore, decide_intent
from autopack.action.inputs import inputs_from_env

INPUTS = inputs_from_env({"INPUT_GITHUB_TOKEN": "t"})


def issue_comment(body: str, *, pull: bool = True, **extra: Any) -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 9, "state": extra.pop("state", "open")}
    if pull:
        issue["pull_request"] = {"url": "https://api.github.com/repos/acme/calc/pulls/9"}
    return {
        "action": extra.pop("action", "created"),
        "issue": issue,
        "comment": {
            "id": 2001,
            "body": body,
            "user": {"login": "maint", "type": "User"},
            "created_at": "2026-01-01T00:00:10Z",
            "html_url": "https://github.com/acme/calc/pull/9#issuecomment-2001",
        },
        "sender": {"login": "maint", "type": "User"},
    }


def review_comment(body: str, ref: str = "autopack/issue-7", **extra: Any) -> dict[str, Any]:
    return {
        "action": extra.pop("action", "created"),
        "pull_request": {
            "number": 9,
            "state": "open",
            "head": {"ref": ref, "sha": "a" * 40},
            "base": {"ref": "main", "sha": "b" * 40},
        },
        "comment": {
            "id": 3001,
            "body": body,
            "user": {"login": "maint", "type": "User"},
            "created_at": "2026-01-01T00:00:10Z",
            "path": "src/calc/ops.py",
            "line": 9,
            "diff_hunk": "@@ -8,2 +8,2 @@\n def sub(a, b):",
        },
        "sender": {"login": "maint", "type": "User"},
    }


def test_a_pr_comment_with_an_instruction_is_a_follow_up() -> None:
    intent = decide_intent("issue_comment", issue_comment("/autopack add mul(a, b)"), INPUTS)
    assert isinstance(intent, FollowUpRequest)
    assert (intent.number, intent.head_ref, intent.instruction) == (9, "", "add mul(a, b)")
    assert intent.comment.id == 2001 and intent.comment.key == "2001"
    assert intent.comment.author == "maint" and not intent.comment.review
    assert intent.comment.path is None


def test_a_review_comment_is_anchored_to_its_file_and_line() -> None:
    intent = decide_intent(
        "pull_request_review_comment", review_comment("/autopack rename sub to subtract"), INPUTS
    )
    assert isinstance(intent, FollowUpRequest)
    assert intent.head_ref == "autopack/issue-7" and intent.instruction == "rename sub to subtract"
    c = intent.comment
    assert (c.review, c.path, c.line, c.key) == (True, "src/calc/ops.py", 9, "review-3001")
    assert c.diff_hunk.startswith("@@ -8,2")


def test_approve_and_deny_comments_decide_a_named_request() -> None:
    approve = decide_intent("issue_comment", issue_comment("/autopack approve 4fb17e1c"), INPUTS)
    assert isinstance(approve, DecideRequest)
    assert (approve.approve, approve.request_id, approve.label) == (True, "4fb17e1c", "")
    assert approve.comment is not None and approve.sender == "maint" and approve.is_pull
    assert approve.what == "the `approve 4fb17e1c` comment"
    on_issue = decide_intent(
        "issue_comment", issue_comment("/autopack deny 4fb17e", pull=False), INPUTS
    )
    assert isinstance(on_issue, DecideRequest) and not on_issue.is_pull and not on_issue.approve
    in_review = decide_intent(
        "pull_request_review_comment", review_comment("/autopack deny 4fb17e"), INPUTS
    )
    assert isinstance(in_review, DecideRequest) and in_review.head_ref == "autopack/issue-7"


@pytest.mark.parametrize(
    ("event", "payload", "why"),
    [
        ("issue_comment", issue_comment("looks good"), "does not start with '/autopack'"),
        ("issue_comment", issue_comment("/autopack add", action="edited"), "'edited'"),
        ("issue_comment", issue_comment("/autopack add", action="deleted"), "'deleted'"),
        ("issue_comment", issue_comment("/autopack add x", state="closed"), "closed"),
        ("issue_comment", issue_comment("/autopack add x", pull=False), "is an issue"),
        (
            "pull_request_review_comment",
            review_comment("/autopack x", ref="feat"),
            "not an Autopack",
        ),
        ("pull_request_review_comment", review_comment("nit: naming"), "does not start"),
        ("pull_request_review_comment", review_comment("/autopack x", action="edited"), "'edited'"),
    ],
)
def test_other_comments_are_ignored_with_a_reason(
    event: str, payload: dict[str, Any], why: str
) -> None:
    intent = decide_intent(event, payload, INPUTS)
    assert isinstance(intent, Ignore) and why in intent.reason, intent


def test_the_command_prefix_input() -> None:
    inputs = inputs_from_env({"INPUT_GITHUB_TOKEN": "t", "INPUT_COMMAND_PREFIX": "/bot"})
    assert inputs.decision_labels.command == "/bot"
    assert isinstance(
        decide_intent("issue_comment", issue_comment("/bot add x"), inputs), FollowUpRequest
    )
    assert isinstance(
        decide_intent("issue_comment", issue_comment("/autopack add x"), inputs), Ignore
    )


def review(body: str | None, ref: str = "autopack/issue-7", **extra: Any) -> dict[str, Any]:
    return {
        "action": extra.pop("action", "submitted"),
        "pull_request": {
            "number": 9,
            "state": extra.pop("state", "open"),
            "head": {"ref": ref, "sha": "a" * 40},
            "base": {"ref": "main", "sha": "b" * 40},
        },
        "review": {
            "id": 4001,
            "body": body,
            "state": "changes_requested",
            "user": {"login": "maint", "type": "User"},
            "submitted_at": "2026-01-01T00:00:10Z",
            "html_url": "https://github.com/acme/calc/pull/9#pullrequestreview-4001",
        },
        "sender": {"login": "maint", "type": "User"},
    }


def test_a_review_body_with_the_command_is_a_follow_up_or_a_decision() -> None:
    intent = decide_intent("pull_request_review", review("/autopack add mul(a, b)"), INPUTS)
    assert isinstance(intent, FollowUpRequest)
    assert (intent.number, intent.head_ref, intent.instruction) == (9, "autopack/issue-7", "add mul(a, b)")  # fmt: skip
    c = intent.comment
    assert (c.id, c.key, c.review, c.review_body, c.path) == (4001, "pr-review-4001", False, True, None)  # fmt: skip
    decision = decide_intent("pull_request_review", review("/autopack approve 4fb17e1c"), INPUTS)
    assert isinstance(decision, DecideRequest) and decision.request_id == "4fb17e1c"


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (review("/autopack add mul", action="edited"), "with action 'edited'"),
        (review("/autopack add mul", ref="feature/x"), "not an Autopack PR"),
        (review("/autopack add mul", state="closed"), "is closed"),
        (review(None), ""),
        (review("LGTM"), ""),
    ],
)
def test_other_reviews_are_ignored_with_a_reason(payload: dict[str, Any], why: str) -> None:
    intent = decide_intent("pull_request_review", payload, INPUTS)
    assert isinstance(intent, Ignore) and why in intent.reason
