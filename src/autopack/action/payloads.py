"""The event payloads Autopack reads (only the fields it reads; GitHub sends many more)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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


class CommentPayload(_Payload):
    id: int
    body: str | None = None
    user: Account
    created_at: datetime
    html_url: str = ""
    path: str | None = None  # review comments: the file and line they are anchored to
    line: int | None = None
    original_line: int | None = None
    diff_hunk: str | None = None


class IssueCommentEvent(_Payload):
    action: str
    issue: IssueRef
    comment: CommentPayload
    sender: Account


class ReviewCommentEvent(_Payload):
    action: str
    pull_request: PullRef
    comment: CommentPayload
    sender: Account


class ReviewPayload(_Payload):
    id: int
    body: str | None = None
    user: Account
    submitted_at: datetime
    html_url: str = ""


class ReviewEvent(_Payload):
    action: str
    pull_request: PullRef
    review: ReviewPayload
    sender: Account


class DispatchEvent(_Payload):
    inputs: dict[str, Any] | None = None
    sender: Account
