"""The Forge on GitHub, through PyGithub (reads in github_client.py): the draft PR (opened once
its branch has a commit: GitHub refuses one before), keyed comments edited in place, check runs
(annotations 50 per request), marking the PR ready for review (the GraphQL mutation
`markPullRequestReadyForReview`, which PyGithub sends to the GraphQL endpoint next to the REST one;
REST has no equivalent), and artifacts kept in a local folder for the workflow to upload."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from github import GithubException
from pydantic import BaseModel, ConfigDict

from autopack.adapters.github_client import (
    ACTIONS_BOT,
    BodyCheck,
    CommentRef,
    GitHubClient,
    IssueInfo,
    LabelEvent,
    PullInfo,
    comment_marker,
    comment_ref,
)
from autopack.adapters.local_forge import write_text_atomic
from autopack.core.checks import CheckRun, PullRequestRef
from autopack.errors import ForgeError

MAX_ANNOTATIONS_PER_REQUEST = 50

__all__ = [
    "ACTIONS_BOT",
    "CommentRef",
    "GitHubForge",
    "IssueInfo",
    "LabelEvent",
    "LabelSpec",
    "PullInfo",
    "comment_marker",
]


def _not_yet(exc: GithubException) -> bool:
    """GitHub's refusal of a PR whose head has no commits beyond the base, or is not pushed yet."""
    if exc.status != 422:
        return False
    text = str(exc.data).lower()
    return "no commits between" in text or "'field': 'head'" in text


class LabelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    color: str  # six hex digits, no '#'
    description: str = ""


class GitHubForge(GitHubClient):
    """`target` is the issue (or PR) number that keyed comments go to until the PR exists;
    `artifacts` is a local folder for files of the run (patches, state) that the workflow may
    upload."""

    def __init__(
        self,
        repository: str,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        target: int | None = None,
        artifacts: str | Path = "autopack-out",
        throttle: bool = True,
    ) -> None:
        super().__init__(repository, token, api_url=api_url, throttle=throttle)
        self.target = target
        self.artifacts = Path(artifacts)
        self.pull_number: int | None = None
        self.check_urls: dict[str, str] = {}

    # -- comments ----------------------------------------------------------------------------
    def upsert_comment_on(
        self, number: int, key: str, body: str, accept: BodyCheck | None = None
    ) -> CommentRef:
        """The comment marked `key` on `number`, created or edited in place (never duplicated: a
        failed create is looked for before it is sent again; a failed edit is sent again). Given
        `accept`, only a comment whose body it accepts counts as the one to edit."""
        marker = comment_marker(key)
        text = f"{marker}\n{body}"
        c = self._find_ours(number, marker, accept) or self._create_marked(
            number, marker, text, accept
        )
        if c.body != text:
            self._retried("edit a comment", lambda: c.edit(text))
        return comment_ref(c)

    def comment(self, number: int, body: str) -> CommentRef:
        """A new comment (for one-off messages; use upsert_comment_on for anything re-run). Sent
        once: after a 5xx it may exist or not, and without a marker it cannot be looked for."""
        new = self._call(f"comment on #{number}", lambda: self._post_comment(number, body))
        return comment_ref(new)

    def react(self, comment_id: int, review: bool, content: str, number: int) -> None:
        """Add our `content` reaction (`eyes`, `rocket`, ...) to an issue comment, or to a review
        comment (`review`) of PR `number`. GitHub answers a reaction we already made with that one,
        so a re-run never adds a second."""

        def run() -> None:
            if review:
                target = self.repo.get_pull(number).get_review_comment(comment_id)
            else:
                target = self.repo.get_issue(number).get_comment(comment_id)
            target.create_reaction(content)

        self._retried(f"react to comment {comment_id}", run)

    def upsert_comment(self, key: str, body: str) -> None:
        """Keyed comments of the executor (summary, governance requests) go on the PR once it
        exists, else on the issue."""
        number = self.pull_number or self.target
        if number is None:
            raise ForgeError(f"no issue or pull request to post the {key} comment on")
        self.upsert_comment_on(number, key, body)

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, draft: bool = True
    ) -> PullRequestRef:
        """The open PR for `head` (body and title brought up to date), else a new draft one. GitHub
        refuses a PR while `head` has no commits beyond `base`: then the issue stands in for it and the
        ref says `pending` (the executor asks again after its next commit)."""
        owner = self._repository.split("/")[0]
        what = f"open the pull request for {head}"

        def find() -> Any | None:
            found = list(self.repo.get_pulls(state="open", head=f"{owner}:{head}"))
            return found[0] if found else None

        def post() -> Any | None:
            """The new PR, or None while GitHub refuses one (no commits yet)."""
            try:
                return self.once_repo.create_pull(
                    base=base, head=head, title=title, body=body, draft=draft
                )
            except GithubException as exc:
                if _not_yet(exc):
                    return None
                if exc.status == 422 and "already exists" in str(exc.data).lower():
                    pr = find()  # another run (or a reply we lost) opened it
                    if pr is not None:
                        return pr
                raise

        def run() -> PullRequestRef | None:
            pr = self._call(what, find)
            if pr is None:
                pr = self.create_once(what, post, lambda: self._call(what, find))
                if pr is None:
                    return None
            elif pr.body != body or pr.title != title:
                self._retried(what, lambda: pr.edit(title=title, body=body))
            self.pull_number = pr.number
            return PullRequestRef(number=pr.number, url=pr.html_url, draft=bool(pr.draft))

        ref = run()
        if ref is not None:
            return ref
        if self.target is not None:
            info = self.issue(self.target)
            return PullRequestRef(number=info.number, url=info.url, draft=True, pending=True)
        return PullRequestRef(number=0, url="", draft=True, pending=True)

    def mark_ready_for_review(self, number: int) -> None:
        def run() -> None:
            pr = self.repo.get_pull(number)
            if pr.draft:
                pr.mark_ready_for_review()

        self._call(f"mark PR #{number} ready for review", run)

    # -- labels ------------------------------------------------------------------------------
    def create_missing_labels(self, wanted: Sequence[LabelSpec]) -> list[str]:
        """Create the repository labels of `wanted` that do not exist (GitHub compares names
        without case); returns the names created. Idempotent: a label another run created in the
        meantime (422 `already_exists`) counts as there."""
        existing = self._call(
            "list the repository's labels",
            lambda: {lb.name.lower() for lb in self.repo.get_labels()},
        )
        created = []
        for spec in wanted:
            if spec.name.lower() in existing:
                continue
            try:
                self.repo.create_label(spec.name, spec.color, spec.description)
            except GithubException as exc:
                if exc.status == 422 and "already_exists" in str(exc.data):
                    continue
                raise ForgeError(
                    f"GitHub refused to create label {spec.name!r}: {exc.status}"
                ) from exc
            except OSError as exc:
                raise ForgeError(f"cannot reach GitHub to create label {spec.name!r}") from exc
            existing.add(spec.name.lower())
            created.append(spec.name)
        return created

    # -- check runs --------------------------------------------------------------------------
    def publish_check_run(self, check: CheckRun) -> str:
        """Create the check run of that name on that SHA, or update it; annotations go 50 per
        request (GitHub's limit; each update appends)."""
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

        what = f"publish the check run {check.name!r}"

        def find() -> Any | None:
            commit = self.repo.get_commit(check.head_sha)
            found = list(commit.get_check_runs(check_name=check.name))
            return found[0] if found else None

        def run() -> str:
            fields: dict[str, Any] = {"status": check.status, "output": output(batches[0])}
            if check.conclusion is not None:
                fields["conclusion"] = check.conclusion
            run_obj: Any = self._call(what, find)
            if run_obj is not None:
                # An edit is sent again after a 5xx, unless it carries annotations: GitHub
                # appends those on every PATCH, so a re-sent one would list them twice.
                send = self._call if batches[0] else self._retried
                send(what, lambda: run_obj.edit(**fields))
            else:  # GitHub keeps every check run POSTed, even two of one name: never send twice
                run_obj = self.create_once(
                    what,
                    lambda: self.once_repo.create_check_run(
                        name=check.name, head_sha=check.head_sha, **fields
                    ),
                    lambda: self._call(what, find),
                )
            for batch in batches[1:]:
                self._call(what, partial(run_obj.edit, output=output(batch)))
            return str(run_obj.html_url)

        url = run()
        self.check_urls[check.name] = url
        return url

    # -- artifacts ---------------------------------------------------------------------------
    def save_artifact(self, name: str, text: str) -> str:
        path = self.artifacts / name
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise ForgeError(f"cannot save {path}: {exc.strerror}") from exc
        return str(path)
