"""The Forge on GitHub, through PyGithub. `base_url` comes from GITHUB_API_URL, so GitHub Enterprise
Server works the same as github.com.

Besides the Forge port (PR, keyed comments, check runs, artifacts) it offers what the action needs:
the issue, the last `labeled` event of a label, a user's role, label removal, marking a PR ready for
review (GraphQL `markPullRequestReadyForReview`, which PyGithub sends to the GraphQL endpoint next to
the REST one), and comments found by a hidden marker among the comments this token wrote (so nobody
else can plant a fake tracking comment). Every PyGithub error becomes a ForgeError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from github import Auth, Github, GithubException
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from pydantic import BaseModel, ConfigDict

from autopack.adapters.local_forge import write_text_atomic
from autopack.errors import ForgeError
from autopack.ports import CheckRun, PullRequestRef

MAX_ANNOTATIONS_PER_REQUEST = 50
ACTIONS_BOT = "github-actions[bot]"
T = TypeVar("T")


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


def _ref(c: IssueComment) -> CommentRef:
    return CommentRef(
        id=c.id,
        url=c.html_url,
        body=c.body or "",
        created_at=_utc(c.created_at),
        updated_at=_utc(c.updated_at or c.created_at),
    )


class GitHubForge:
    """`target` is the issue (or PR) number that keyed comments go to; `artifacts` is a local folder
    for files of the run (patches, state) that the workflow may upload."""

    def __init__(
        self,
        repository: str,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        target: int | None = None,
        artifacts: str | Path = "autopack-out",
        retry: Any = None,
        throttle: bool = True,
    ) -> None:
        kwargs: dict[str, Any] = {"base_url": api_url.rstrip("/"), "retry": retry}
        if not throttle:
            kwargs.update(seconds_between_requests=None, seconds_between_writes=None)
        self._gh = Github(auth=Auth.Token(token), **kwargs)
        self._repository = repository
        self._repo_obj: Any = None
        self.target = target
        self.artifacts = Path(artifacts)
        self._login: str | None = None
        self._pending_pr: tuple[str, str, str, str, bool] | None = None
        self.pull_number: int | None = None
        self.check_urls: dict[str, str] = {}
        self.on_check: Callable[[CheckRun, str], None] | None = None

    # -- plumbing ----------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else exc.data
            raise ForgeError(f"GitHub refused to {what}: {exc.status} {message}") from exc
        except OSError as exc:  # connection errors from requests are OSErrors
            raise ForgeError(f"cannot reach GitHub to {what}: {exc}") from exc

    @property
    def repo(self) -> Any:
        if self._repo_obj is None:
            self._repo_obj = self._call(
                f"read {self._repository}", lambda: self._gh.get_repo(self._repository)
            )
        return self._repo_obj

    @property
    def login(self) -> str:
        """Who this token writes as (GET /user; an Actions token may not read it: the Actions bot)."""
        if self._login is None:
            try:
                self._login = str(self._gh.get_user().login)
            except GithubException:
                self._login = ACTIONS_BOT
        return self._login

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

    # -- comments ----------------------------------------------------------------------------
    def _our_comments(self, number: int) -> list[IssueComment]:
        me = self.login
        return self._call(
            f"list the comments of #{number}",
            lambda: [c for c in self.repo.get_issue(number).get_comments() if c.user.login == me],
        )

    def find_comment(self, number: int, key: str) -> CommentRef | None:
        marker = comment_marker(key)
        for c in self._our_comments(number):
            if marker in (c.body or ""):
                return _ref(c)
        return None

    def upsert_comment_on(self, number: int, key: str, body: str) -> CommentRef:
        """The comment marked `key` on `number`, created or edited in place (never duplicated)."""
        marker = comment_marker(key)
        text = f"{marker}\n{body}"
        for c in self._our_comments(number):
            if marker in (c.body or ""):
                if c.body != text:
                    self._call("edit a comment", lambda c=c: c.edit(text))  # type: ignore[misc]
                return _ref(c)
        new = self._call(
            f"comment on #{number}", lambda: self.repo.get_issue(number).create_comment(text)
        )
        return _ref(new)

    def comment(self, number: int, body: str) -> CommentRef:
        """A new comment (for one-off messages; use upsert_comment_on for anything re-run)."""
        new = self._call(
            f"comment on #{number}", lambda: self.repo.get_issue(number).create_comment(body)
        )
        return _ref(new)

    def upsert_comment(self, key: str, body: str) -> None:
        """Keyed comments of the executor (summary, governance requests) go on the PR once it
        exists, else on the issue."""
        number = self.pull_number or self.target
        if number is None:
            raise ForgeError(f"no issue or pull request to post the {key} comment on")
        self.upsert_comment_on(number, key, body)

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

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, draft: bool = True
    ) -> PullRequestRef:
        """The open PR for `head` (body and title brought up to date), else a new draft one. GitHub
        refuses a PR while `head` has no commits beyond `base`: then the PR is opened by the first
        publish after a push, and the issue stands in for it meanwhile."""
        owner = self._repository.split("/")[0]

        def run() -> PullRequestRef | None:
            found = list(self.repo.get_pulls(state="open", head=f"{owner}:{head}"))
            if found:
                pr = found[0]
                if pr.body != body or pr.title != title:
                    pr.edit(title=title, body=body)
            else:
                try:
                    pr = self.repo.create_pull(
                        base=base, head=head, title=title, body=body, draft=draft
                    )
                except GithubException as exc:
                    if exc.status != 422:
                        raise
                    self._pending_pr = (head, base, title, body, draft)
                    return None
            self._pending_pr = None
            self.pull_number = pr.number
            return PullRequestRef(number=pr.number, url=pr.html_url, draft=bool(pr.draft))

        ref = self._call(f"open the pull request for {head}", run)
        if ref is not None:
            return ref
        if self.target is not None:
            info = self.issue(self.target)
            return PullRequestRef(number=info.number, url=info.url, draft=True)
        return PullRequestRef(number=0, url="", draft=True)

    def open_pending_pull_request(self) -> None:
        if self._pending_pr is not None:
            self.ensure_pull_request(*self._pending_pr)

    def mark_ready_for_review(self, number: int) -> None:
        def run() -> None:
            pr = self.repo.get_pull(number)
            if pr.draft:
                pr.mark_ready_for_review()

        self._call(f"mark PR #{number} ready for review", run)

    # -- check runs --------------------------------------------------------------------------
    def publish_check_run(self, check: CheckRun) -> None:
        """Create the check run of that name on that SHA, or update it; annotations go 50 per
        request (GitHub's limit; each update appends)."""
        self.open_pending_pull_request()
        batches = [
            [a.model_dump(exclude_none=True) for a in check.annotations[i : i + 50]]
            for i in range(0, len(check.annotations), MAX_ANNOTATIONS_PER_REQUEST)
        ] or [[]]

        def output(batch: list[dict[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {"title": check.title, "summary": check.summary}
            if check.text:
                out["text"] = check.text
            if batch:
                out["annotations"] = batch
            return out

        def run() -> str:
            existing = list(
                self.repo.get_commit(check.head_sha).get_check_runs(check_name=check.name)
            )
            fields: dict[str, Any] = {"status": check.status, "output": output(batches[0])}
            if check.conclusion is not None:
                fields["conclusion"] = check.conclusion
            if existing:
                run_obj = existing[0]
                run_obj.edit(**fields)
            else:
                run_obj = self.repo.create_check_run(
                    name=check.name, head_sha=check.head_sha, **fields
                )
            for batch in batches[1:]:
                run_obj.edit(output=output(batch))
            return str(run_obj.html_url)

        url = self._call(f"publish the check run {check.name!r}", run)
        self.check_urls[check.name] = url
        if self.on_check is not None:
            self.on_check(check, url)

    # -- artifacts ---------------------------------------------------------------------------
    def save_artifact(self, name: str, text: str) -> str:
        path = self.artifacts / name
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise ForgeError(f"cannot save {path}: {exc.strerror}") from exc
        return str(path)
