"""Reading GitHub through PyGithub (the base of GitHubForge): the repository, issues, the last
`labeled` event of a label, a user's role, labels, pull requests and comments found by a hidden
marker among the comments this token wrote (so nobody else can plant a fake one). `base_url` comes
from GITHUB_API_URL, so GitHub Enterprise Server works the same as github.com. Every PyGithub error
becomes a ForgeError.

Retries: comments, check runs and PRs are created through a second PyGithub client that never sends
the POST again after a 5xx or a broken reply (GitHub may have acted); the thing is looked for (a
comment by its marker, a check run by name on its commit, a PR by its branch) before it is created
again (`create_once`). Edits (idempotent) are tried again after a 5xx or a lost connection."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from github import Auth, Github, GithubException
from github.GithubRetry import GithubRetry
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from pydantic import BaseModel, ConfigDict

from autopack.errors import ForgeError

ACTIONS_BOT = "github-actions[bot]"
ATTEMPTS = 3  # how many times a write is sent (edited, or created when not found) at most
RETRY_DELAY = 1.0  # seconds before the second attempt, doubling after
T = TypeVar("T")


BodyCheck = Callable[[str], bool]  # accepts a comment body as ours (e.g. a signature)


class SendOnceRetry(GithubRetry):
    """PyGithub's retry for a request GitHub must not receive twice (creating a comment): only
    refusals GitHub did not act on (rate limits: 403, 429) and connections that never opened are
    retried; a 5xx or a broken reply is not, as GitHub may have done the work."""

    RETRY_AFTER_STATUS_CODES = frozenset([429])

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("status_forcelist", [429])  # GithubRetry adds 403 (rate limits only)
        kwargs.setdefault("read", False)
        kwargs.setdefault("other", 0)
        super().__init__(**kwargs)


def _transient(exc: ForgeError) -> bool:
    """A failure GitHub may have acted on, or may not: a 5xx, or a broken connection."""
    cause = exc.__cause__
    if isinstance(cause, GithubException):
        return cause.status >= 500
    return isinstance(cause, OSError)


_USER_REFUSAL = re.compile(r"^Request GET \S*/user failed with 403\b")


def _not_user_refusal(record: logging.LogRecord) -> bool:
    """False for PyGithub's line about the expected 403 on GET /user (an Actions or App token)."""
    return _USER_REFUSAL.match(record.getMessage()) is None


@contextlib.contextmanager
def _quiet_user_refusal() -> Iterator[None]:
    """While the token's user is read: PyGithub's retry logger (`github.GithubRetry`, at INFO to
    stderr through the handler PyGithub installs on `github`) drops its line about that 403 only;
    every other line, a 403 on another request included, is logged as before."""
    loggers = [logging.getLogger(name) for name in ("github.GithubRetry", "github.Requester")]
    for lg in loggers:
        lg.addFilter(_not_user_refusal)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(_not_user_refusal)


class LabelEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    actor: str
    actor_type: str  # "User" or "Bot"
    created_at: datetime


class CommentRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    url: str
    body: str
    created_at: datetime
    updated_at: datetime


class IssueInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    url: str
    is_pull_request: bool


class PullInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    url: str
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool


def comment_marker(key: str) -> str:
    return f"<!-- autopack:{key} -->"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def comment_ref(c: IssueComment) -> CommentRef:
    return CommentRef(
        id=c.id,
        url=c.html_url,
        body=c.body or "",
        created_at=_utc(c.created_at),
        updated_at=_utc(c.updated_at or c.created_at),
    )


class GitHubClient:
    """`throttle=False` (tests against a local server): no pacing between requests, no retries
    inside PyGithub and no wait between our own attempts; otherwise PyGithub's defaults (paced
    writes, retries on 5xx and rate limits) except for creates (`once_repo`, `create_once`), and
    `retry_delay` seconds (RETRY_DELAY unless given) before our second attempt."""

    def __init__(
        self,
        repository: str,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        throttle: bool = True,
        retry_delay: float | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"base_url": api_url.rstrip("/")}
        if not throttle:
            kwargs.update(retry=None, seconds_between_requests=None, seconds_between_writes=None)
        self._gh = Github(auth=Auth.Token(token), **kwargs)
        once = {**self._gh.requester.kwargs, "lazy": True}
        if throttle:
            once["retry"] = SendOnceRetry()
        self._send_once = Github(**once)
        default_delay = RETRY_DELAY if throttle else 0.0
        self._retry_delay = default_delay if retry_delay is None else retry_delay
        self._repository = repository
        self._repo_obj: Any = None
        self._login: str | None = None

    def close(self) -> None:
        """Close the HTTP sessions (their pooled connections)."""
        self._gh.close()
        self._send_once.close()

    # -- plumbing ----------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else exc.data
            raise ForgeError(f"GitHub refused to {what}: {exc.status} {message}") from exc
        except OSError as exc:  # connection errors from requests are OSErrors
            raise ForgeError(f"cannot reach GitHub to {what}: {exc}") from exc

    def _pause(self, attempt: int) -> None:
        if self._retry_delay > 0:
            time.sleep(self._retry_delay * 2 ** (attempt - 1))

    def _retried(self, what: str, fn: Callable[[], T]) -> T:
        """`fn`, an idempotent request (an edit), sent again after a 5xx or a broken connection:
        ATTEMPTS times at most. Any other refusal is final at once."""
        attempt = 1
        while True:
            try:
                return self._call(what, fn)
            except ForgeError as exc:
                if attempt == ATTEMPTS or not _transient(exc):
                    raise
                self._pause(attempt)
                attempt += 1

    @property
    def repo(self) -> Any:
        if self._repo_obj is None:
            self._repo_obj = self._call(
                f"read {self._repository}", lambda: self._gh.get_repo(self._repository)
            )
        return self._repo_obj

    @property
    def login(self) -> str | None:
        """Who this token writes as (GET /user), None when the token may not read it: Actions and
        GitHub App installation tokens, which write as a bot (`github-actions[bot]`, `<app>[bot]`).
        That refusal (403) is expected and never logged; any other failure is a ForgeError."""
        if self._login is None:
            with _quiet_user_refusal():
                try:
                    self._login = str(self._gh.get_user().login)
                except GithubException as exc:
                    if exc.status != 403:
                        message = (
                            exc.data.get("message") if isinstance(exc.data, dict) else exc.data
                        )
                        raise ForgeError(
                            f"GitHub refused to read the token's user: {exc.status} {message}"
                        ) from exc
                    self._login = ""
                except OSError as exc:
                    raise ForgeError(
                        f"cannot reach GitHub to read the token's user: {exc}"
                    ) from exc
        return self._login or None

    def _is_ours(self, user: Any) -> bool:
        """Written with this token: by its user, or (user unknown) by a bot. Only an admin can
        install a GitHub App, so a planted marker from a person is never taken for ours."""
        if user is None:
            return False
        me = self.login
        if me is not None:
            return bool(user.login == me)
        return bool(user.type == "Bot" or str(user.login).endswith("[bot]"))

    @property
    def default_branch(self) -> str:
        return str(self.repo.default_branch)

    def branch_sha(self, branch: str) -> str | None:
        try:
            return str(self.repo.get_git_ref(f"heads/{branch}").object.sha)
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise ForgeError(f"GitHub refused to read branch {branch}: {exc.status}") from exc

    # -- issues, events, people --------------------------------------------------------------
    def issue(self, number: int) -> IssueInfo:
        i = self._call(f"read issue #{number}", lambda: self.repo.get_issue(number))
        return IssueInfo(
            number=i.number,
            title=i.title or "",
            body=i.body or "",
            labels=tuple(label.name for label in i.labels),
            url=i.html_url,
            is_pull_request=i.pull_request is not None,
        )

    def last_labeled(self, number: int, label: str) -> LabelEvent | None:
        """The LAST `labeled` event for `label` on issue/PR `number`, or None."""

        def find() -> LabelEvent | None:
            last = None
            for ev in self.repo.get_issue(number).get_events():
                if ev.event == "labeled" and ev.label is not None and ev.label.name == label:
                    last = ev
            if last is None or last.actor is None:
                return None
            return LabelEvent(
                label=label,
                actor=last.actor.login,
                actor_type=last.actor.type or "User",
                created_at=_utc(last.created_at),
            )

        return self._call(f"read the events of #{number}", find)

    def role_name(self, login: str) -> str:
        """admin, maintain, write, triage, read (or a custom role); 'none' if not a collaborator."""
        try:
            return str(self.repo.get_collaborator_role_name(login))
        except GithubException as exc:
            if exc.status == 404:
                return "none"
            raise ForgeError(f"GitHub refused to read {login}'s role: {exc.status}") from exc

    def labels(self, number: int) -> list[str]:
        return self._call(
            f"read the labels of #{number}",
            lambda: [lb.name for lb in self.repo.get_issue(number).get_labels()],
        )

    def remove_label(self, number: int, label: str) -> bool:
        try:
            self.repo.get_issue(number).remove_from_labels(label)
            return True
        except GithubException as exc:
            if exc.status == 404:
                return False
            raise ForgeError(f"GitHub refused to remove label {label!r}: {exc.status}") from exc

    # -- pull requests -----------------------------------------------------------------------
    def _pull_info(self, pr: PullRequest) -> PullInfo:
        return PullInfo(
            number=pr.number,
            url=pr.html_url,
            head_ref=pr.head.ref,
            head_sha=pr.head.sha,
            base_ref=pr.base.ref,
            draft=bool(pr.draft),
        )

    def pull(self, number: int) -> PullInfo:
        return self._pull_info(self._call(f"read PR #{number}", lambda: self.repo.get_pull(number)))

    def find_pull(self, head: str) -> PullInfo | None:
        owner = self._repository.split("/")[0]
        pulls = self._call(
            f"list PRs for {head}",
            lambda: list(self.repo.get_pulls(state="open", head=f"{owner}:{head}")),
        )
        return self._pull_info(pulls[0]) if pulls else None

    # -- comments ----------------------------------------------------------------------------
    def _our_comments(self, number: int) -> list[IssueComment]:
        return self._call(
            f"list the comments of #{number}",
            lambda: [
                c for c in self.repo.get_issue(number).get_comments() if self._is_ours(c.user)
            ],
        )

    def _find_ours(
        self, number: int, marker: str, accept: BodyCheck | None = None
    ) -> IssueComment | None:
        """Our comment holding `marker` (and, given `accept`, whose body it accepts: a login
        alone proves nothing about which workflow wrote a comment)."""
        for c in self._our_comments(number):
            body = c.body or ""
            if marker in body and (accept is None or accept(body)):
                return c
        return None

    def find_comment(
        self, number: int, key: str, accept: BodyCheck | None = None
    ) -> CommentRef | None:
        found = self._find_ours(number, comment_marker(key), accept)
        return None if found is None else comment_ref(found)

    @property
    def once_repo(self) -> Any:
        """The repository through the send-once client: for POSTs GitHub must not receive twice
        (PyGithub's default retry re-sends a POST after a 5xx, when GitHub may have acted)."""
        return self._send_once.get_repo(self._repository)

    def _post_comment(self, number: int, text: str) -> IssueComment:
        """POST a new comment, never re-sent by PyGithub after a 5xx or a broken reply."""
        created: IssueComment = self.once_repo.get_issue(number).create_comment(text)
        return created

    def create_once(self, what: str, post: Callable[[], T], find: Callable[[], T | None]) -> T:
        """`post` (a create, sent through `once_repo`), at most once per attempt. After a 5xx or a
        broken connection GitHub may have made the thing all the same: `find` looks for it and
        it is taken when there, else `post` is sent again (ATTEMPTS times at most)."""
        attempt = 1
        while True:
            try:
                return self._call(what, post)
            except ForgeError as exc:
                if not _transient(exc):
                    raise
                self._pause(attempt)
                found = find()
                if found is not None:
                    return found
                if attempt == ATTEMPTS:
                    raise
                attempt += 1

    def _create_marked(
        self, number: int, marker: str, text: str, accept: BodyCheck | None = None
    ) -> IssueComment:
        """A new comment holding `marker`, never two (create_once; ours found by the marker)."""
        return self.create_once(
            f"comment on #{number}",
            lambda: self._post_comment(number, text),
            lambda: self._find_ours(number, marker, accept),
        )
