"""The pure decision of what an event (its payload: action/payloads.py) asks for: start a run,
decide a governance request (a label, or a command comment or review), run a follow-up phase (a
command comment or review on an Autopack PR), or nothing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autopack.action.inputs import ActionConfigError, ActionInputs
from autopack.action.payloads import (
    CommentPayload,
    DispatchEvent,
    IssueCommentEvent,
    IssuesEvent,
    PullRef,
    PullRequestEvent,
    ReviewCommentEvent,
    ReviewEvent,
)
from autopack.core.comment_command import FollowUpCommand, GovernanceCommand, parse_command

BRANCH_PREFIX = "autopack/"
DECLINED_EVENTS = {
    "pull_request_target": "pull_request_target runs with secrets on fork code; "
    "Autopack never acts on it",
}


class StartRun(BaseModel):
    """Run (or resume) the work for an issue or a spec file."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["start"] = "start"
    issue_number: int | None = None
    spec_path: str | None = None
    sender: str
    sender_type: str = "User"
    label: str | None = Field(default=None, description="The trigger label; None for a dispatch")


class CommentFact(BaseModel):
    """A command comment, as the event reports it (GitHub's own record of who wrote it, when)."""

    model_config = ConfigDict(frozen=True)

    id: int
    author: str
    author_type: str = "User"
    created_at: datetime
    url: str = ""
    review: bool = Field(default=False, description="A review comment on a file and line")
    review_body: bool = Field(
        default=False, description="The body of a submitted review (GitHub has no reactions on one)"
    )
    path: str | None = None
    line: int | None = None
    diff_hunk: str = ""

    @property
    def key(self) -> str:
        """Names the comment in phase ids and reply markers (review and issue comments are
        numbered apart on GitHub, and reviews apart from both)."""
        if self.review_body:
            return f"pr-review-{self.id}"
        return f"review-{self.id}" if self.review else str(self.id)


class DecideRequest(BaseModel):
    """A maintainer labelled an Autopack PR (or, before the PR exists, the issue) to approve or deny
    its pending governance request, or commented `/autopack approve <id>` (`deny <id>`) there."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["decide"] = "decide"
    number: int = Field(description="The PR (or issue) that carries the label or the comment")
    is_pull: bool = True
    head_ref: str = ""
    approve: bool
    label: str = ""
    request_id: str | None = Field(default=None, description="Named by a command comment")
    comment: CommentFact | None = None
    sender: str
    sender_type: str = "User"

    @property
    def what(self) -> str:
        """The label or the command, as refusals name it."""
        if self.comment is None:
            return f"the {self.label!r} label"
        words = " ".join(w for w in ("approve" if self.approve else "deny", self.request_id) if w)
        return f"the `{words}` comment"


class FollowUpRequest(BaseModel):
    """A `/autopack <instruction>` comment on an Autopack pull request: one more phase."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["followup"] = "followup"
    number: int = Field(description="The pull request")
    head_ref: str = Field(
        default="", description="Empty when the event does not say (the runner reads the PR)"
    )
    instruction: str
    comment: CommentFact


class Ignore(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["ignore"] = "ignore"
    reason: str


Intent = StartRun | DecideRequest | FollowUpRequest | Ignore


def load_payload(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise ActionConfigError(f"cannot read the event payload {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ActionConfigError(f"the event payload {path} is not a JSON object")
    return data


def _int_or_none(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip().lstrip("#"))
    except ValueError:
        raise ActionConfigError(
            f"workflow_dispatch input {name}: not a number: {value!r}"
        ) from None
    if number <= 0:
        raise ActionConfigError(f"workflow_dispatch input {name}: must be positive, got {number}")
    return number


def _issues(payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    ev = IssuesEvent.model_validate(payload)
    if ev.action != "labeled" or ev.label is None:
        return Ignore(reason=f"issues event with action {ev.action!r}: nothing to do")
    if ev.label.name in (inputs.approve_label, inputs.deny_label) and ev.issue.state == "open":
        return DecideRequest(
            number=ev.issue.number,
            is_pull=ev.issue.pull_request is not None,
            approve=ev.label.name == inputs.approve_label,
            label=ev.label.name,
            sender=ev.sender.login,
            sender_type=ev.sender.type,
        )
    if ev.label.name != inputs.trigger_label:
        return Ignore(
            reason=f"label {ev.label.name!r} is not the trigger label {inputs.trigger_label!r}"
        )
    if ev.issue.pull_request is not None:
        return Ignore(reason=f"#{ev.issue.number} is a pull request, not an issue")
    if ev.issue.state != "open":
        return Ignore(reason=f"issue #{ev.issue.number} is {ev.issue.state}")
    return StartRun(
        issue_number=ev.issue.number,
        sender=ev.sender.login,
        sender_type=ev.sender.type,
        label=ev.label.name,
    )


def _pull_request(payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    ev = PullRequestEvent.model_validate(payload)
    if ev.action != "labeled" or ev.label is None:
        return Ignore(reason=f"pull_request event with action {ev.action!r}: nothing to do")
    name = ev.label.name
    if name not in (inputs.approve_label, inputs.deny_label):
        return Ignore(reason=f"label {name!r} is neither the approve nor the deny label")
    pr = ev.pull_request
    if not pr.head.ref.startswith(BRANCH_PREFIX):
        return Ignore(reason=f"PR #{pr.number} is not an Autopack PR (branch {pr.head.ref})")
    if pr.state != "open":
        return Ignore(reason=f"PR #{pr.number} is {pr.state}")
    return DecideRequest(
        number=pr.number,
        head_ref=pr.head.ref,
        approve=name == inputs.approve_label,
        label=name,
        sender=ev.sender.login,
        sender_type=ev.sender.type,
    )


def _dispatch(payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    ev = DispatchEvent.model_validate(payload)
    given = ev.inputs or {}
    issue = inputs.issue_number or _int_or_none(given.get("issue_number"), "issue_number")
    spec_path = inputs.spec_path or str(given.get("spec_path") or "").strip() or None
    if issue is None and spec_path is None:
        return Ignore(reason="workflow_dispatch needs an issue_number or a spec_path input")
    return StartRun(
        issue_number=issue, spec_path=spec_path, sender=ev.sender.login, sender_type=ev.sender.type
    )


def _comment_fact(c: CommentPayload, review: bool) -> CommentFact:
    return CommentFact(
        id=c.id,
        author=c.user.login,
        author_type=c.user.type,
        created_at=c.created_at,
        url=c.html_url,
        review=review,
        path=c.path if review else None,
        line=(c.line or c.original_line) if review else None,
        diff_hunk=(c.diff_hunk or "") if review else "",
    )


def _command(
    event: str, number: int, is_pull: bool, head_ref: str, fact: CommentFact, body: str,
    inputs: ActionInputs,
) -> Intent:  # fmt: skip
    command = parse_command(body, inputs.command_prefix)
    if isinstance(command, GovernanceCommand):
        return DecideRequest(
            number=number,
            is_pull=is_pull,
            head_ref=head_ref,
            approve=command.approve,
            request_id=command.request_id,
            comment=fact,
            sender=fact.author,
            sender_type=fact.author_type,
        )
    if not isinstance(command, FollowUpCommand):
        return Ignore(reason=f"{event} {fact.id}: {command.reason}")
    if not is_pull:
        return Ignore(
            reason=f"#{number} is an issue: follow-ups are asked on Autopack's pull request"
        )
    return FollowUpRequest(
        number=number, head_ref=head_ref, instruction=command.instruction, comment=fact
    )


def _issue_comment(payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    ev = IssueCommentEvent.model_validate(payload)
    if ev.action != "created":
        return Ignore(reason=f"issue_comment event with action {ev.action!r}: nothing to do")
    if ev.issue.state != "open":
        return Ignore(reason=f"#{ev.issue.number} is {ev.issue.state}")
    fact = _comment_fact(ev.comment, review=False)
    is_pull = ev.issue.pull_request is not None
    return _command("comment", ev.issue.number, is_pull, "", fact, ev.comment.body or "", inputs)


def _not_on_our_pr(event: str, action: str, wanted: str, pr: PullRef) -> Ignore | None:
    """Why a review event is ignored (another action, not an open Autopack PR), or None."""
    if action != wanted:
        return Ignore(reason=f"{event} event with action {action!r}: nothing to do")
    if not pr.head.ref.startswith(BRANCH_PREFIX):
        return Ignore(reason=f"PR #{pr.number} is not an Autopack PR (branch {pr.head.ref})")
    if pr.state != "open":
        return Ignore(reason=f"PR #{pr.number} is {pr.state}")
    return None


def _review_comment(payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    ev = ReviewCommentEvent.model_validate(payload)
    pr = ev.pull_request
    ignored = _not_on_our_pr("review comment", ev.action, "created", pr)
    if ignored is not None:
        return ignored
    fact = _comment_fact(ev.comment, review=True)
    body = ev.comment.body or ""
    return _command("review comment", pr.number, True, pr.head.ref, fact, body, inputs)


def _review(payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    """A submitted review whose body is a command (Comment, Approve or Request changes)."""
    ev = ReviewEvent.model_validate(payload)
    pr, review = ev.pull_request, ev.review
    ignored = _not_on_our_pr("review", ev.action, "submitted", pr)
    if ignored is not None:
        return ignored
    fact = CommentFact(
        id=review.id,
        author=review.user.login,
        author_type=review.user.type,
        created_at=review.submitted_at,
        url=review.html_url,
        review_body=True,
    )
    return _command("review", pr.number, True, pr.head.ref, fact, review.body or "", inputs)


def decide_intent(event_name: str, payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    """What the event asks Autopack to do. Malformed payloads raise ActionConfigError; declined
    events (DECLINED_EVENTS) are ignored before their payload is read."""
    if event_name in DECLINED_EVENTS:
        return Ignore(reason=DECLINED_EVENTS[event_name])
    handlers = {
        "issues": _issues,
        "pull_request": _pull_request,
        "workflow_dispatch": _dispatch,
        "issue_comment": _issue_comment,
        "pull_request_review_comment": _review_comment,
        "pull_request_review": _review,
    }
    handler = handlers.get(event_name)
    if handler is None:
        return Ignore(reason=f"event {event_name!r} does not start Autopack; nothing to do")
    try:
        return handler(payload, inputs)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ActionConfigError(f"{event_name} payload: {where}: {first['msg']}") from None
