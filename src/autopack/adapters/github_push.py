"""The checkout of an action run: a GitWorkspace whose phase commits are pushed to `origin` at once
(check runs need SHAs that exist on GitHub), and which can take over the run's branch from `origin`
when a later run resumes it.

For an http(s) remote the token goes to git the way actions/checkout does it, as the header
`AUTHORIZATION: basic base64(x-access-token:TOKEN)` in `http.<origin>/.extraheader`; it is passed as
per-command configuration (git's GIT_CONFIG_COUNT/KEY/VALUE environment, the same as `git -c`, but
not visible in the process list), after an empty value that resets a header persisted by
actions/checkout. So the token is never in a URL, a log, an argument or .git/config, and
`persist-credentials: false` works."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from autopack.adapters.git_workspace import GitWorkspace
from autopack.errors import WorkspaceError


def auth_config(
    remote_url: str, token: str | None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment that gives git the token for `remote_url` (empty for non-http remotes):
    two settings appended after those `environ` already has (GIT_CONFIG_COUNT), so the action's
    `safe.directory` stays in force."""
    parts = urlsplit(remote_url)
    if not token or parts.scheme not in ("http", "https"):
        return {}
    key = f"http.{parts.scheme}://{parts.netloc.rpartition('@')[2]}/.extraheader"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    n = int((environ or {}).get("GIT_CONFIG_COUNT", "0") or "0")
    return {
        "GIT_CONFIG_COUNT": str(n + 2),
        f"GIT_CONFIG_KEY_{n}": key,
        f"GIT_CONFIG_VALUE_{n}": "",
        f"GIT_CONFIG_KEY_{n + 1}": key,
        f"GIT_CONFIG_VALUE_{n + 1}": f"AUTHORIZATION: basic {basic}",
    }


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class ActionWorkspace(GitWorkspace):
    def __init__(self, root: str | Path, token: str | None = None, remote: str = "origin") -> None:
        super().__init__(root)
        self._token = token
        self._remote = remote
        self.pushes = 0

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run git against the remote with the token in the environment only."""
        url = self._run_plain("remote", "get-url", self._remote).stdout.strip()
        base = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        env = {**base, **auth_config(url, self._token, base)}
        basic = base64.b64encode(f"x-access-token:{self._token or ''}".encode()).decode()
        out = subprocess.run(
            ["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            detail = _scrub(out.stderr.strip() or out.stdout.strip(), [self._token or "", basic])
            raise WorkspaceError(f"git {args[0]} {self._remote} failed: {detail}")
        return out

    def _run_plain(self, *args: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True)
        if out.returncode != 0:
            raise WorkspaceError(f"git {' '.join(args)} failed: {out.stderr.strip()}")
        return out

    def remote_branch_sha(self, branch: str) -> str | None:
        out = self._git("ls-remote", "--heads", self._remote, f"refs/heads/{branch}")
        line = out.stdout.strip().splitlines()
        return line[0].split()[0] if line else None

    def adopt_remote_branch(self, branch: str) -> bool:
        """If `origin` has `branch`, fetch it and point the local branch at it (a resumed run
        continues where the last one pushed). Returns whether the branch existed."""
        if self.remote_branch_sha(branch) is None:
            return False
        self._git("fetch", "-q", self._remote, f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        if self.is_dirty():
            raise WorkspaceError(f"{self.root} has uncommitted changes; cannot switch to {branch}")
        self._run_plain("checkout", "-q", "-B", branch, f"refs/remotes/origin/{branch}")
        return True

    def commit_phase(
        self, phase_id: str, title: str, paths: list[str], trailers: dict[str, str]
    ) -> str:
        sha = super().commit_phase(phase_id, title, paths, trailers)
        self.push(self.repo.active_branch.name)
        return sha

    def push(self, branch: str, remote: str = "origin") -> None:
        self._git("push", "-q", self._remote, f"refs/heads/{branch}:refs/heads/{branch}")
        self.pushes += 1
