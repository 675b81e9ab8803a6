"""ActionWorkspace's authenticated git (ls-remote, fetch, push) over the real git smart-HTTP
protocol: `git http-backend` behind a local server that demands the token as GitHub does."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import git
import pytest

from autopack.adapters.github_push import ActionWorkspace
from autopack.commands.action import safe_directory_env
from autopack.errors import WorkspaceError
from support.git_http import GitHttpServer, basic

TOKEN = "ghs_http_token_789"
BRANCH = "autopack/add-notes"


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credential helper or askpass program of this machine's may answer a 401 for git."""
    empty = tmp_path_factory.mktemp("gitconfig") / "global"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_COUNT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def served(git_repo: Path) -> Iterator[tuple[Path, GitHttpServer]]:
    """The checkout, its `origin` now the bare repository served over HTTP with TOKEN."""
    with GitHttpServer(git_repo.parent, TOKEN) as server:
        git.Repo(git_repo).remote("origin").set_url(server.url("origin.git"))
        yield git_repo, server


def _within(seconds: float, action: Callable[[], object]) -> BaseException | None:
    """Run `action`, failing the test if it has not ended after `seconds` (a credential prompt
    would hang); the exception it raised, if any."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"git still running after {seconds} s (a credential prompt?)"
    return raised[0] if raised else None


def _assert_no_token_at_rest(checkout: Path, url: str) -> None:
    for secret in (TOKEN, basic(TOKEN)):
        assert secret not in (checkout / ".git" / "config").read_text(encoding="utf-8")
    remote = git.Repo(checkout).remote("origin")
    assert list(remote.urls) == [url]


def test_the_token_header_authenticates_ls_remote_fetch_and_push(
    served: tuple[Path, GitHttpServer], tmp_path: Path
) -> None:
    work, server = served
    origin = git.Repo(tmp_path / "origin.git")
    ws = ActionWorkspace(work, token=TOKEN)
    assert ws.remote_branch_sha("main") == origin.heads["main"].commit.hexsha
    assert ws.remote_branch_sha(BRANCH) is None

    ws.prepare_branch(BRANCH)
    ws.write_changes({"NOTES.md": b"notes\n"})
    sha = ws.commit_phase("p1", "Add notes", ["NOTES.md"], {})  # pushed at once
    assert ws.pushes == 1
    assert origin.heads[BRANCH].commit.hexsha == sha
    assert ws.remote_branch_sha(BRANCH) == sha

    # A later run in a fresh checkout takes the branch over (ls-remote, then fetch).
    other = tmp_path / "other"
    clone = git.Repo.clone_from(str(tmp_path / "origin.git"), other, branch="main")
    clone.remote("origin").set_url(server.url("origin.git"))
    resumed = ActionWorkspace(other, token=TOKEN)
    assert resumed.adopt_remote_branch("autopack/none") is False
    assert resumed.adopt_remote_branch(BRANCH) is True
    assert resumed.head_sha() == sha and (other / "NOTES.md").read_bytes() == b"notes\n"

    # A push the server refuses (not a fast-forward): the error names the cause, not the token.
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD~1"], cwd=work, check=True)
    ws.write_changes({"OTHER.md": b"other\n"})
    with pytest.raises(WorkspaceError) as info:
        ws.commit_phase("p2", "Other", ["OTHER.md"], {})
    assert "rejected" in str(info.value)
    assert TOKEN not in str(info.value) and basic(TOKEN) not in str(info.value)

    for checkout in (work, other):
        _assert_no_token_at_rest(checkout, server.url("origin.git"))
    assert server.seen and {s.authorization for s in server.seen} == {f"basic {basic(TOKEN)}"}
    assert {s.status for s in server.seen} == {200}
    paths = {s.path for s in server.seen}
    assert {"/origin.git/git-receive-pack", "/origin.git/git-upload-pack"} <= paths


def test_a_header_persisted_by_actions_checkout_is_replaced_not_sent_twice(
    served: tuple[Path, GitHttpServer], tmp_path: Path
) -> None:
    """actions/checkout (persist-credentials: true) leaves its token's header in .git/config; the
    action's own token replaces it rather than adding a second Authorization header."""
    work, server = served
    key = f"http.{server.base}/.extraheader"
    stale = f"AUTHORIZATION: basic {basic('ghs_checkout_token')}"
    subprocess.run(["git", "config", key, stale], cwd=work, check=True)
    ws = ActionWorkspace(work, token=TOKEN)
    ws.prepare_branch(BRANCH)
    ws.write_changes({"NOTES.md": b"notes\n"})
    sha = ws.commit_phase("p1", "Add notes", ["NOTES.md"], {})
    assert git.Repo(tmp_path / "origin.git").heads[BRANCH].commit.hexsha == sha
    assert {s.authorization for s in server.seen} == {f"basic {basic(TOKEN)}"}
    assert TOKEN not in (work / ".git" / "config").read_text(encoding="utf-8")


@pytest.mark.parametrize("token", ["ghs_wrong_token_000", None], ids=["wrong-token", "no-token"])
def test_a_refused_token_fails_at_once_and_is_not_in_the_error(
    served: tuple[Path, GitHttpServer], tmp_path: Path, token: str | None
) -> None:
    work, server = served
    ws = ActionWorkspace(work, token=token)
    ws.prepare_branch(BRANCH)
    ws.write_changes({"NOTES.md": b"notes\n"})
    git.Repo(work).git.add("NOTES.md")
    git.Repo(work).git.commit("-q", "-m", "notes")  # committed here, not pushed yet
    error = _within(60, lambda: ws.push(BRANCH))
    assert isinstance(error, WorkspaceError), error
    message = str(error)
    assert "push origin failed" in message and "terminal prompts disabled" in message
    if token:
        assert token not in message and basic(token) not in message
        assert {s.authorization for s in server.seen} == {f"basic {basic(token)}"}
    else:
        assert {s.authorization for s in server.seen} == {""}
    assert {s.status for s in server.seen} == {401}
    assert BRANCH not in git.Repo(tmp_path / "origin.git").heads
    assert ws.pushes == 0
    _assert_no_token_at_rest(work, server.url("origin.git"))


def test_the_token_and_safe_directory_both_hold_for_a_checkout_owned_by_another_user(
    served: tuple[Path, GitHttpServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a runner: the workspace belongs to another uid, so git needs the action command's
    safe.directory, and the token's settings must come after it, not in its place."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout to another user")
    work, server = served
    for dirpath, _, files in os.walk(work):
        os.chown(dirpath, 4321, 4321)
        for name in files:
            os.chown(os.path.join(dirpath, name), 4321, 4321)
    refused = subprocess.run(["git", "status"], cwd=work, capture_output=True, text=True)
    assert refused.returncode != 0 and "dubious ownership" in refused.stderr
    for key, value in safe_directory_env({"GITHUB_WORKSPACE": str(work)}).items():
        monkeypatch.setenv(key, value)

    ws = ActionWorkspace(work, token=TOKEN)
    ws.prepare_branch(BRANCH)
    ws.write_changes({"NOTES.md": b"notes\n"})
    sha = ws.commit_phase("p1", "Add notes", ["NOTES.md"], {})
    assert git.Repo(tmp_path / "origin.git").heads[BRANCH].commit.hexsha == sha
    assert ws.remote_branch_sha(BRANCH) == sha
    assert {s.authorization for s in server.seen} == {f"basic {basic(TOKEN)}"}
