"""Adapters for the baseline tracker: the on-disk cache of baseline reports (one JSON file per commit
SHA and test configuration, in a configurable folder the Action can keep between runs; locally by
default per user, `$XDG_CACHE_HOME/autopack/baselines/<repo>`), and git snapshots (a file at a
commit; a commit exported to a temp folder with `git archive`, which only the finalizer bench uses
now: a baseline is measured in the working tree, see app/baseline.py)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import git
from pydantic import ValidationError

from autopack.core.gates.test_report import SuiteReport
from autopack.errors import SuiteRunError, WorkspaceError

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def user_cache_dir(repo_root: str | Path, environ: Mapping[str, str] | None = None) -> Path:
    """The per-user baseline cache of a repo: `$XDG_CACHE_HOME/autopack/baselines/<repo>` (else
    `~/.cache/...`), `<repo>` being its folder name and a hash of its origin URL (else of its
    path), so clones of one repo share their baselines and other repos never collide."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    root = Path(repo_root).resolve()
    identity = str(root)
    with contextlib.suppress(git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        origin = git.Repo(root).remote("origin")
        identity = next(iter(origin.urls), identity)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", root.name).strip("-.") or "repo"
    return (
        base
        / "autopack"
        / "baselines"
        / f"{name}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"
    )


class DirBaselineStore:
    """`<folder>/<key>.json`, written atomically. An unreadable or invalid file counts as a miss
    (and is overwritten by the next save), so a corrupt cache never blocks a run; nor does one
    that cannot be written: `save` raises SuiteRunError, which the tracker (app/baseline.py) turns
    into a warning. A folder it creates gets a `.gitignore` of `*`: inside a checkout, git never
    sees (nor commits) it."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise SuiteRunError(f"invalid baseline cache key {key!r}")
        return self.folder / f"{key}.json"

    def load(self, key: str) -> SuiteReport | None:
        try:
            return SuiteReport.model_validate_json(self._path(key).read_bytes())
        except (OSError, ValidationError, ValueError):
            return None

    def save(self, key: str, report: SuiteReport) -> None:
        target = self._path(key)
        try:
            if not self.folder.exists():
                self.folder.mkdir(parents=True)
                (self.folder / ".gitignore").write_text("*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(report.model_dump_json(indent=1))
            os.replace(tmp, target)
        except OSError as exc:
            raise SuiteRunError(
                f"cannot write the baseline cache {target}: {exc.strerror}"
            ) from exc


class MemoryBaselineStore:
    """No persistence (used with `--baseline-cache` unset in tests and the naive bench)."""

    def __init__(self) -> None:
        self.reports: dict[str, SuiteReport] = {}

    def load(self, key: str) -> SuiteReport | None:
        return self.reports.get(key)

    def save(self, key: str, report: SuiteReport) -> None:
        self.reports[key] = report


class GitSnapshots:
    def __init__(self, root: str | Path) -> None:
        try:
            self._repo = git.Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise WorkspaceError(f"{root} is not a git repository") from exc

    @contextlib.contextmanager
    def checkout(self, sha: str) -> Iterator[str]:
        folder = tempfile.mkdtemp(prefix="autopack-base-")
        try:
            buf = io.BytesIO()
            try:
                self._repo.archive(buf, treeish=sha, format="tar")
            except git.GitCommandError as exc:
                raise WorkspaceError(f"cannot export commit {sha}: {exc.stderr.strip()}") from exc
            buf.seek(0)
            with tarfile.open(fileobj=buf) as tar:
                _extract(tar, Path(folder))
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def read_at(self, rev: str, path: str) -> bytes | None:
        """A file's content at `rev`, None if it does not exist there."""
        try:
            blob = self._repo.commit(rev).tree / path
        except (KeyError, ValueError, git.BadName):
            return None
        if blob.type != "blob":
            return None
        data: bytes = blob.data_stream.read()
        return data


def _extract(tar: tarfile.TarFile, folder: Path) -> None:
    """Extract with the "data" filter where Python has it (3.11.4+); before that, refuse members
    that would land outside `folder` (absolute, `..`, or links), as that filter does."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(folder, filter="data")
        return
    root = folder.resolve()
    for member in tar.getmembers():
        target = (root / member.name).resolve()
        if target != root and root not in target.parents:
            raise WorkspaceError(f"refusing archive member outside the export: {member.name}")
        if member.islnk() or member.issym():
            link = (target.parent / member.linkname).resolve()
            if root not in link.parents:
                raise WorkspaceError(f"refusing link leading outside the export: {member.name}")
    tar.extractall(folder)  # every member was checked above
