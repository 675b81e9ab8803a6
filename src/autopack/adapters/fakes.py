"""In-memory ports for tests and experiments: a Workspace with files and commits in dicts, and a
Forge that records what it was asked to publish. They keep the same contracts as the real adapters
(paths checked by the path policy, PRs pending until the branch has a commit, check runs keyed by
name and head), so the executor can be exercised in milliseconds with no git and no network."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from autopack.core.checks import CheckRun, PullRequestRef
from autopack.core.paths import check_repo_path
from autopack.errors import WorkspaceError


@dataclass
class Commit:
    sha: str
    parent: str
    phase_id: str
    title: str
    files: dict[str, bytes]  # the whole tree after the commit
    trailers: dict[str, str]


class MemoryWorkspace:
    """A checkout held in memory: `files` is the working tree, `commits` the branch history."""

    def __init__(self, files: dict[str, bytes] | None = None, root: str = "/memory") -> None:
        self._root = root
        self.files: dict[str, bytes] = {check_repo_path(p): b for p, b in (files or {}).items()}
        base = Commit(_sha("base", self.files), "", "", "base", dict(self.files), {})
        self.commits: list[Commit] = [base]
        self.branch = "main"
        self.pushed: list[str] = []

    @property
    def root(self) -> str:
        return self._root

    def read(self, path: str) -> bytes | None:
        return self.files.get(check_repo_path(path))

    def write_changes(self, changes: dict[str, bytes | None]) -> None:
        checked = {check_repo_path(p): data for p, data in changes.items()}
        for path, data in checked.items():
            if data is None:
                self.files.pop(path, None)
            else:
                self.files[path] = data

    def discard_changes(self, paths: list[str]) -> None:
        head = self.commits[-1].files
        for path in paths:
            if path in head:
                self.files[path] = head[path]
            else:
                self.files.pop(path, None)

    def remove_new_files(self, paths: list[str]) -> None:
        head = self.commits[-1].files
        for path in paths:
            if path not in head:
                self.files.pop(path, None)

    def diff(self, paths: list[str]) -> str:
        head, out = self.commits[-1].files, list[str]()
        for path in paths:
            before = head.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
            after = self.files.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
            out += difflib.unified_diff(before, after, f"a/{path}", f"b/{path}")
        return "".join(out)

    def list_files(self) -> list[str]:
        return sorted(self.commits[-1].files)

    def dirty_paths(self) -> set[str]:
        head = self.commits[-1].files
        return {p for p in set(head) | set(self.files) if head.get(p) != self.files.get(p)}

    def head_sha(self) -> str:
        return self.commits[-1].sha

    def prepare_branch(self, branch: str) -> str:
        self.branch = branch
        return self.commits[0].sha

    def committed_phases(self, base_sha: str) -> dict[str, str]:
        after = [c for c in self.commits if c.phase_id]
        return {c.phase_id: c.sha for c in after}

    def commit_trailers(self, sha: str) -> dict[str, str]:
        found = next((c for c in self.commits if c.sha == sha), None)
        if found is None:
            raise WorkspaceError(f"no commit {sha}")
        return {"Autopack-Phase": found.phase_id, **found.trailers} if found.phase_id else {}

    def commit_phase(
        self, phase_id: str, title: str, paths: list[str], trailers: dict[str, str]
    ) -> str:
        tree = dict(self.commits[-1].files)
        for path in paths:
            if path in self.files:
                tree[path] = self.files[path]
            elif path in tree:
                del tree[path]
            else:
                raise WorkspaceError(f"cannot commit {path}: nothing to commit there")
        sha = _sha(self.head_sha() + phase_id, tree)
        self.commits.append(Commit(sha, self.head_sha(), phase_id, title, tree, dict(trailers)))
        return sha

    def push(self, branch: str) -> None:
        self.pushed.append(branch)


@dataclass
class RecordingForge:
    """A Forge that keeps everything it is given. Like GitHub, it cannot open a PR before the
    branch has a commit of its own (`has_commits()`): until then the ref is `pending`."""

    has_commits: Callable[[], bool] = lambda: True
    pull: PullRequestRef | None = None
    comments: dict[str, str] = field(default_factory=dict)
    checks: dict[tuple[str, str], CheckRun] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, draft: bool = True
    ) -> PullRequestRef:
        self.calls.append(f"ensure_pull_request {head}")
        if self.pull is None and not self.has_commits():
            return PullRequestRef(number=0, url="", draft=draft, pending=True)
        if self.pull is None:
            self.pull = PullRequestRef(number=1, url=f"memory://pull/1/{head}", draft=draft)
        return self.pull

    def upsert_comment(self, key: str, body: str) -> None:
        self.calls.append(f"upsert_comment {key}")
        self.comments[key] = body

    def publish_check_run(self, check: CheckRun) -> str:
        self.calls.append(f"publish_check_run {check.name}")
        self.checks[(check.name, check.head_sha)] = check
        return f"memory://checks/{check.name}/{check.head_sha}"

    def save_artifact(self, name: str, text: str) -> str:
        self.artifacts[name] = text
        return f"memory://artifacts/{name}"


def _sha(seed: str, files: dict[str, bytes]) -> str:
    h = hashlib.sha1(seed.encode(), usedforsecurity=False)
    for path in sorted(files):
        h.update(path.encode() + b"\0" + files[path])
    return h.hexdigest()


__all__ = ["Commit", "MemoryWorkspace", "RecordingForge"]
