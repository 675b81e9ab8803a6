"""GitHubForge through the real PyGithub against the local stateful GitHub server."""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import git
import pytest

from autopack.adapters.github_client import SendOnceRetry
from autopack.adapters.github_forge import GitHubForge
from autopack.adapters.github_push import ActionWorkspace, auth_config
from autopack.core.checks import Annotation, CheckRun
from autopack.errors import ForgeError, WorkspaceError
from support.github_server import GitHubServer, GitHubState

TOKEN = "ghs_test_token_123"


@pytest.fixture
def gh(git_repo: Path) -> Iterator[GitHubServer]:
    state = GitHubState(
        owner="acme", name="calc", origin=git_repo.parent / "origin.git", token=TOKEN
    )
    with GitHubServer(state) as server:
        yield server


def make_forge(
    gh: GitHubServer, target: int | None = None, tmp: Path | None = None, throttle: bool = False
) -> GitHubForge:
    return GitHubForge(
        "acme/calc",
        TOKEN,
        api_url=gh.base_url,
        target=target,
        artifacts=tmp or Path("/tmp/autopack-forge-test"),
        throttle=throttle,
    )


def commit_and_push(work: Path, branch: str, name: str = "f.txt") -> str:
    repo = git.Repo(work)
    if branch not in repo.heads:
        repo.create_head(branch)
    repo.heads[branch].checkout()
    (work / name).write_text(f"{name}\n", encoding="utf-8")
    repo.git.add(name)
    repo.git.commit("-q", "-m", f"add {name}")
    repo.git.push("-q", "origin", branch)
    return repo.head.commit.hexsha


def test_keyed_comment_is_edited_in_place_never_duplicated(gh: GitHubServer) -> None:
    n = gh.state.create_issue("Add mul", "please")
    forge = make_forge(gh, target=n)
    first = forge.upsert_comment_on(n, "tracking", "v1")
    second = forge.upsert_comment_on(n, "tracking", "v2")
    forge.upsert_comment_on(n, "tracking", "v2")  # unchanged: no write at all
    assert first.id == second.id
    bodies = [c["body"] for c in gh.state.comments_on(n)]
    assert bodies == ["<!-- autopack:tracking -->\nv2"]
    assert len(gh.state.writes("PATCH", r"/issues/comments/")) == 1


COMMENT_POST = r"/issues/\d+/comments$"
COMMENT_PATCH = r"/issues/comments/\d+$"


@pytest.mark.parametrize("throttle", [False, True], ids=["test-config", "production-config"])
def test_a_502_after_the_comment_was_created_does_not_duplicate_it(
    gh: GitHubServer, throttle: bool
) -> None:
    """GitHub made the comment but the reply was a 502: the POST is not sent again (PyGithub's
    production retry would); the comments are listed and ours, found by its marker, is taken."""
    n = gh.state.create_issue("Add mul", "please")
    gh.state.fail_once("POST", COMMENT_POST, after=True)
    ref = make_forge(gh, target=n, throttle=throttle).upsert_comment_on(n, "tracking", "v1")
    comments = gh.state.comments_on(n)
    assert [c["body"] for c in comments] == ["<!-- autopack:tracking -->\nv1"]
    assert ref.id == comments[0]["id"]
    assert len(gh.state.writes("POST", COMMENT_POST)) == 1
    assert len(gh.state.writes("GET", r"/user$")) == 1  # the Actions token's 403: not retried


def test_a_502_before_the_comment_was_created_creates_it_once(gh: GitHubServer) -> None:
    n = gh.state.create_issue("Add mul", "please")
    gh.state.fail_once("POST", COMMENT_POST)
    ref = make_forge(gh, target=n).upsert_comment_on(n, "tracking", "v1")
    assert [c["id"] for c in gh.state.comments_on(n)] == [ref.id]
    assert len(gh.state.writes("POST", COMMENT_POST)) == 2


@pytest.mark.parametrize("after", [False, True], ids=["lost-request", "lost-reply"])
def test_a_502_on_the_comment_edit_is_retried(gh: GitHubServer, after: bool) -> None:
    n = gh.state.create_issue("Add mul", "please")
    forge = make_forge(gh, target=n)
    first = forge.upsert_comment_on(n, "tracking", "v1")
    gh.state.fail_once("PATCH", COMMENT_PATCH, after=after)
    second = forge.upsert_comment_on(n, "tracking", "v2")
    assert second.id == first.id and second.body.endswith("v2")
    assert [c["body"] for c in gh.state.comments_on(n)] == ["<!-- autopack:tracking -->\nv2"]
    assert len(gh.state.writes("PATCH", COMMENT_PATCH)) == 2


def test_an_edit_that_keeps_failing_stops_after_a_few_tries(gh: GitHubServer) -> None:
    n = gh.state.create_issue("Add mul", "please")
    forge = make_forge(gh, target=n)
    forge.upsert_comment_on(n, "tracking", "v1")
    for _ in range(5):
        gh.state.fail_once("PATCH", COMMENT_PATCH)
    with pytest.raises(ForgeError, match="502"):
        forge.upsert_comment_on(n, "tracking", "v2")
    assert len(gh.state.writes("PATCH", COMMENT_PATCH)) == 3


def test_a_refused_edit_is_not_retried(gh: GitHubServer) -> None:
    n = gh.state.create_issue("Add mul", "please")
    forge = make_forge(gh, target=n)
    forge.upsert_comment_on(n, "tracking", "v1")
    gh.state.fail_once("PATCH", COMMENT_PATCH, status=422)
    with pytest.raises(ForgeError, match="422"):
        forge.upsert_comment_on(n, "tracking", "v2")
    assert len(gh.state.writes("PATCH", COMMENT_PATCH)) == 1


def test_a_comment_post_is_resent_only_after_a_refusal_github_did_not_act_on() -> None:
    """Rate limits (403, 429) are sent again; a 5xx, even a 503 with Retry-After, is not."""
    retry = SendOnceRetry().new(total=3)
    assert retry.is_retry("POST", 429) and retry.is_retry("POST", 403)
    assert not retry.is_retry("POST", 502)
    assert not retry.is_retry("POST", 503, has_retry_after=True)
    assert retry.read is False  # a broken reply: GitHub may have made the comment


def plant_comment(gh: GitHubServer, issue: int, body: str, user: str) -> None:
    """A comment someone else wrote (id 1), straight into the server's state."""
    gh.state.comments[1] = {
        "id": 1,
        "issue": issue,
        "body": body,
        "user": user,
        "created_at": gh.state.tick(),
        "updated_at": gh.state.tick(),
    }


def test_a_planted_marker_from_someone_else_is_ignored(gh: GitHubServer) -> None:
    n = gh.state.create_issue("Add mul", "please")
    plant_comment(gh, n, "<!-- autopack:tracking -->\nforged", "mallory")
    forge = make_forge(gh, target=n)
    assert forge.find_comment(n, "tracking") is None
    ref = forge.upsert_comment_on(n, "tracking", "ours")
    assert ref.id != 1 and gh.state.comments[1]["body"].endswith("forged")


def test_pull_request_is_pending_until_commits_then_opens_once(
    gh: GitHubServer, git_repo: Path
) -> None:
    n = gh.state.create_issue("Add mul", "please")
    forge = make_forge(gh, target=n)
    ref = forge.ensure_pull_request("autopack/issue-1", "main", "T", "Closes #1")
    assert ref.number == n and ref.pending and not gh.state.pulls()  # the issue stands in
    sha = commit_and_push(git_repo, "autopack/issue-1")
    forge.publish_check_run(
        CheckRun(name="Autopack / a", head_sha=sha, conclusion="success", title="ok", summary="s")
    )
    assert not gh.state.pulls()  # publishing a check run has no PR side effect
    opened = forge.ensure_pull_request("autopack/issue-1", "main", "T", "Closes #1")
    pulls = gh.state.pulls()
    assert not opened.pending and opened.number == pulls[0]["number"]
    assert len(pulls) == 1 and pulls[0]["pull"]["draft"] is True
    again = make_forge(gh, target=n).ensure_pull_request("autopack/issue-1", "main", "T", "new")
    assert again.number == pulls[0]["number"] and len(gh.state.pulls()) == 1
    assert pulls[0]["body"] == "new"
    forge.mark_ready_for_review(again.number)
    assert gh.state.pulls()[0]["pull"]["draft"] is False


def test_check_run_annotations_go_fifty_per_request(gh: GitHubServer, git_repo: Path) -> None:
    sha = git.Repo(git_repo).head.commit.hexsha
    notes = tuple(
        Annotation(
            path="tests/t.py",
            start_line=i,
            end_line=i,
            annotation_level="failure",
            message=f"fail {i}",
        )
        for i in range(1, 121)
    )
    check = CheckRun(
        name="Autopack / p",
        head_sha=sha,
        conclusion="failure",
        title="2 failed",
        summary="x",
        annotations=notes,
    )
    forge = make_forge(gh)
    forge.publish_check_run(check)
    forge.publish_check_run(check.model_copy(update={"annotations": ()}))  # re-publish: update
    runs = list(gh.state.check_runs.values())
    assert len(runs) == 1
    assert len(runs[0]["annotations"]) == 120
    assert runs[0]["conclusion"] == "failure"
    assert len(gh.state.writes("POST", r"/check-runs$")) == 1
    assert len(gh.state.writes("PATCH", r"/check-runs/")) == 3  # 2 batches + the re-publish


def test_last_labeled_event_and_roles(gh: GitHubServer) -> None:
    n = gh.state.create_issue("x", "y")
    gh.state.add_user("maint", "maintain")
    gh.state.add_user("tri", "triage")
    gh.state.add_label(n, "autopack", "maint")
    gh.state.add_label(n, "autopack", "tri")
    forge = make_forge(gh)
    event = forge.last_labeled(n, "autopack")
    assert event is not None and event.actor == "tri"
    assert forge.last_labeled(n, "other") is None
    assert forge.role_name("maint") == "maintain"
    assert forge.role_name("stranger") == "none"
    assert forge.remove_label(n, "autopack") is True
    assert forge.remove_label(n, "autopack") is False


def test_errors_become_forge_errors(gh: GitHubServer) -> None:
    forge = GitHubForge("acme/calc", "wrong", api_url=gh.base_url, throttle=False)
    with pytest.raises(ForgeError, match="401"):
        forge.issue(1)


class _AuthRecorder(BaseHTTPRequestHandler):
    seen: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization", ""))
        self.send_response(403)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_push_sends_the_token_as_an_extra_header_only(git_repo: Path) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _AuthRecorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/acme/calc.git"
        subprocess.run(["git", "remote", "set-url", "origin", url], cwd=git_repo, check=True)
        ws = ActionWorkspace(git_repo, token=TOKEN)
        with pytest.raises(WorkspaceError) as info:
            ws.push("main")
    finally:
        httpd.shutdown()
        httpd.server_close()
    expected = "basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert expected in _AuthRecorder.seen
    assert TOKEN not in str(info.value)
    assert TOKEN not in (git_repo / ".git" / "config").read_text()
    assert auth_config("/local/path.git", TOKEN) == {}
    assert auth_config("https://github.com/acme/calc", TOKEN)["GIT_CONFIG_KEY_1"] == (
        "http.https://github.com/.extraheader"
    )


def test_with_a_personal_token_only_its_own_comments_count(gh: GitHubServer) -> None:
    gh.state.user_readable = True
    gh.state.token_user = gh.state.add_user("release-person", "maintain")
    n = gh.state.create_issue("x", "y")
    plant_comment(gh, n, "<!-- autopack:tracking -->\nfrom another bot", "other[bot]")
    forge = make_forge(gh, target=n)
    assert forge.login == "release-person"
    assert forge.find_comment(n, "tracking") is None
    mine = forge.upsert_comment_on(n, "tracking", "ours")
    assert gh.state.comments[mine.id]["user"] == "release-person"
    assert forge.find_comment(n, "tracking") == mine.model_copy(update={"body": mine.body})


CHECK_POST = r"/check-runs$"
PULL_POST = r"/pulls$"


@pytest.mark.parametrize("throttle", [False, True], ids=["test-config", "production-config"])
@pytest.mark.parametrize("after", [False, True], ids=["lost-request", "lost-reply"])
def test_a_502_on_creating_a_check_run_never_makes_two(
    gh: GitHubServer, git_repo: Path, throttle: bool, after: bool
) -> None:
    """GitHub keeps every check run POSTed, even under one name: after a 502 the check runs of the
    commit are read and ours taken when GitHub made it; else the POST is sent again."""
    sha = git.Repo(git_repo).head.commit.hexsha
    check = CheckRun(
        name="Autopack / p", head_sha=sha, conclusion="success", title="t", summary="s"
    )
    gh.state.fail_once("POST", CHECK_POST, after=after)
    url = make_forge(gh, throttle=throttle).publish_check_run(check)
    runs = list(gh.state.check_runs.values())
    assert len(runs) == 1 and url.endswith(str(runs[0]["id"]))
    assert runs[0]["conclusion"] == "success"
    assert len(gh.state.writes("POST", CHECK_POST)) == (1 if after else 2)


@pytest.mark.parametrize("throttle", [False, True], ids=["test-config", "production-config"])
@pytest.mark.parametrize("after", [False, True], ids=["lost-request", "lost-reply"])
def test_a_502_on_opening_the_pull_request_opens_exactly_one(
    gh: GitHubServer, git_repo: Path, throttle: bool, after: bool
) -> None:
    """A lost reply to the PR's POST must not end the run on GitHub's 'already exists' answer to
    a second one, nor open two: the PR of the branch is looked for first."""
    n = gh.state.create_issue("Add mul", "please")
    commit_and_push(git_repo, "autopack/issue-1")
    gh.state.fail_once("POST", PULL_POST, after=after)
    ref = make_forge(gh, target=n, throttle=throttle).ensure_pull_request(
        "autopack/issue-1", "main", "T", "Closes #1"
    )
    pulls = gh.state.pulls()
    assert len(pulls) == 1 and ref.number == pulls[0]["number"] and not ref.pending
    assert len(gh.state.writes("POST", PULL_POST)) == (1 if after else 2)


@pytest.mark.parametrize("after", [False, True], ids=["lost-request", "lost-reply"])
def test_a_502_on_editing_the_pr_or_a_check_run_is_sent_again(
    gh: GitHubServer, git_repo: Path, after: bool
) -> None:
    """Edits are idempotent: the PR body after a commit and a check run's new conclusion survive
    one 5xx (a check-run edit carrying annotations is the exception: GitHub appends them)."""
    n = gh.state.create_issue("Add mul", "please")
    sha = commit_and_push(git_repo, "autopack/issue-1")
    forge = make_forge(gh, target=n)
    forge.ensure_pull_request("autopack/issue-1", "main", "T", "v1")
    gh.state.fail_once("PATCH", r"/pulls/\d+$", after=after)
    forge.ensure_pull_request("autopack/issue-1", "main", "T", "v2")
    assert [p["body"] for p in gh.state.pulls()] == ["v2"]
    check = CheckRun(
        name="Autopack / a", head_sha=sha, status="in_progress", title="t", summary="s"
    )
    forge.publish_check_run(check)
    gh.state.fail_once("PATCH", r"/check-runs/\d+$", after=after)
    forge.publish_check_run(
        check.model_copy(update={"status": "completed", "conclusion": "failure"})
    )
    [run] = gh.state.check_runs.values()
    assert run["conclusion"] == "failure"
    assert len(gh.state.writes("PATCH", r"/check-runs/\d+$")) == 2
