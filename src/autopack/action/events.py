"""Event payloads (only the fields Autopack reads; GitHub sends many more) and the pure decision of
what an event asks for: start a run, decide a governance request, or nothing."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autopack.action.inputs import ActionConfigError, ActionInputs

BRANCH_PREFIX = "autopack/"
DECLINED_EVENTS = {
    "pull_request_target": "pull_request_target runs with secrets on fork code; "
    "Autopack never acts on it",
}


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Payload):
    login: str
    type: str = "User"


class Label(_Payload):
    name: str


class IssueRef(_Payload):
    number: int
    title: str = ""
    body: str | None = None
    state: str = "open"
    pull_request: dict[str, Any] | None = None


class IssuesEvent(_Payload):
    action: str
    issue: IssueRef
    label: Label | None = None
    sender: Account


class GitRef(_Payload):
    ref: str
    sha: str


class PullRef(_Payload):
    number: int
    state: str = "open"
    head: GitRef
    base: GitRef


class PullRequestEvent(_Payload):
    action: str
    pull_request: PullRef
    label: Label | None = None
    sender: Account


class DispatchEvent(_Payload):
    inputs: dict[str, Any] | None = None
    sender: Account


class StartRun(BaseModel):
    """Run (or resume) the work for an issue or a spec file."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["start"] = "start"
    issue_number: int | None = None
    spec_path: str | None = None
    sender: str
    sender_type: str = "User"
    label: str | None = Field(default=None, description="The trigger label; None for a dispatch")


class DecideRequest(BaseModel):
    """A maintainer labelled an Autopack PR (or, before the PR exists, the issue) to approve or deny
    its pending governance request."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["decide"] = "decide"
    number: int = Field(description="The PR (or issue) that carries the label")
    is_pull: bool = True
    head_ref: str = ""
    approve: bool
    label: str
    sender: str
    sender_type: str = "User"


class Ignore(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["ignore"] = "ignore"
    reason: str


Intent = StartRun | DecideRequest | Ignore


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


def decide_intent(event_name: str, payload: dict[str, Any], inputs: ActionInputs) -> Intent:
    """What the event asks Autopack to do. Malformed payloads raise ActionConfigError; declined
    events (DECLINED_EVENTS) are ignored before their payload is read."""
    if event_name in DECLINED_EVENTS:
        return Ignore(reason=DECLINED_EVENTS[event_name])
    handlers = {
        "issues": _issues,
        "pull_request": _pull_request,
        "workflow_dispatch": _dispatch,
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
