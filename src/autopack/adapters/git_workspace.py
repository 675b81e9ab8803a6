"""Workspace adapter on GitPython: files confined to the repo, one commit per phase, trailers."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import git

from autopack.core.governance.policy import never_approvable
from autopack.core.paths import check_repo_path
from autopack.errors import PathPolicyError, WorkspaceError

PHASE_TRAILER = "Autopack-Phase"
DEFAULT_AUTHOR = git.Actor("autopack[bot]", "autopack@users.noreply.github.com")


class GitWorkspace:
    def __init__(self, root: str | Path, author: git.Actor | None = None) -> None:
        path = Path(root)
        try:
            self._repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise WorkspaceError(f"{path} is not a git repository") from exc
        if self._repo.bare:
            raise WorkspaceError(f"{path} is a bare repository; a checkout is needed")
        self._root = Path(self._repo.working_tree_dir or path).resolve()
        self._author = author or DEFAULT_AUTHOR
        # Files this workspace created and has not committed: its own, not the user's. Untracked
        # files of the user's are never deleted or overwritten (git keeps no copy of them).
        self._created: set[str] = set()

    @property
    def root(self) -> str:
        return str(self._root)

    @property
    def repo(self) -> git.Repo:
        return self._repo

    @property
    def _literal(self) -> git.Git:
        """git for the next command with `--literal-pathspecs`: a path like `a[1].txt` names that
        file, never a pattern (which could pull a user's `a1.txt` into a commit)."""
        return self._repo.git(literal_pathspecs=True)

    # -- files -----------------------------------------------------------------------------
    def _resolve(self, path: str) -> Path:
        norm = check_repo_path(path)
        target = self._root / norm
        self._refuse_symlinked_folders(path, norm)
        if target.is_symlink():
            raise PathPolicyError(
                f"path {path!r} is a symlink; Autopack does not write through symlinks"
            )
        if target.is_dir():
            raise PathPolicyError(f"path {path!r} is a directory, not a file")
        if target.exists() and not target.is_file():
            raise PathPolicyError(f"path {path!r} is not a regular file (a FIFO, socket or device)")
        return target

    def _refuse_symlinked_folders(self, path: str, norm: str) -> None:
        """No folder on the way to `norm` may be a symlink, wherever it leads: a folder symlink
        inside the repo (`wfl -> .github/workflows`) would reach a path under another name."""
        folder = self._root
        for part in norm.split("/")[:-1]:
            folder = folder / part
            if folder.is_symlink():
                link = folder.relative_to(self._root).as_posix()
                raise PathPolicyError(
                    f"path {path!r} goes through the symlink {link!r} ({self._leads(folder)}); "
                    "Autopack does not read or write through symlinked folders"
                )
            if not folder.is_dir():
                return  # missing (nothing below exists) or a file (reading says so)

    def _leads(self, link: Path) -> str:
        real = Path(os.path.realpath(link))
        if real != self._root and self._root not in real.parents:
            return "which leads outside the repo"
        inside = real.relative_to(self._root).as_posix()
        if any(part.lower() == ".git" for part in inside.split("/")):
            return "which leads into .git/"
        return f"to {inside!r} inside the repo"

    def is_untracked(self, path: str) -> bool:
        """True when `path` holds a file of the user's that git does not track: on disk, not in
        the index, and not created by this workspace. Git keeps no copy of it, so Autopack never
        deletes, renames or overwrites it. PathPolicyError as `read` for a refused path."""
        norm = check_repo_path(path)
        target = self._resolve(norm)
        if norm in self._created or not os.path.lexists(target):
            return False
        return norm not in self._tracked([norm])

    def _tracked(self, paths: list[str]) -> set[str]:
        """Those of `paths` that are in git's index (each path literal, never a glob)."""
        if not paths:
            return set()
        listed = self._literal.ls_files("-z", "--", *paths).split("\0")
        return set(listed) & set(paths)

    def read(self, path: str) -> bytes | None:
        target = self._resolve(path)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            raise PathPolicyError(f"path {path!r}: a parent is a file, not a directory") from None
        except OSError as exc:
            raise PathPolicyError(f"path {path!r} cannot be read: {exc.strerror}") from None

    def write_changes(self, changes: dict[str, bytes | None]) -> None:
        """Write each file atomically; if one write fails, the files already written by this call
        are put back as they were, so a failure never leaves half a change on disk."""
        targets = {p: self._resolve(p) for p in changes}  # validate all before writing any
        never = [p for p in changes if never_approvable(p)]
        if never:  # whatever a run state or an approval says
            raise PathPolicyError(
                f"path {', '.join(repr(p) for p in never)}: Autopack never writes .git/ or "
                ".github/workflows/"
            )
        users = [p for p in changes if self.is_untracked(p)]
        if users:
            one = len(users) == 1
            what = "is an untracked file" if one else "are untracked files"
            raise PathPolicyError(
                f"path {', '.join(repr(p) for p in users)} {what} of yours; "
                f"Autopack does not delete or overwrite {'it' if one else 'them'}"
            )
        before = {p: self.read(p) for p in changes}
        self._created.update(check_repo_path(p) for p, data in before.items() if data is None)
        written: list[str] = []
        for path, data in changes.items():
            try:
                self._write_one(targets[path], data)
            except OSError as exc:
                for p in reversed(written):
                    with contextlib.suppress(OSError):
                        self._write_one(targets[p], before[p])
                raise WorkspaceError(
                    f"cannot write {path}: {exc.strerror}; the other files were left unchanged"
                ) from exc
            written.append(path)

    @staticmethod
    def _write_one(target: Path, data: bytes | None) -> None:
        if data is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _head_files(self) -> set[str]:
        try:
            return set(self._repo.git.ls_tree("-r", "-z", "--name-only", "HEAD").split("\0"))
        except git.GitCommandError:
            return set()  # no commit yet

    def discard_changes(self, paths: list[str]) -> None:
        head_files = self._head_files()
        tracked = [p for p in paths if p in head_files]
        if tracked:
            self._literal.checkout("HEAD", "--", *tracked)
        for p in paths:
            norm = check_repo_path(p)
            if p not in head_files and norm in self._created:  # never a file of the user's
                self._created.discard(norm)
                target = self._root / norm
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
                # Remove the folders the change created, now empty (never the repo root).
                for parent in target.parents:
                    if parent == self._root or not parent.is_dir() or any(parent.iterdir()):
                        break
                    parent.rmdir()

    def remove_new_files(self, paths: list[str]) -> None:
        head_files = self._head_files()
        for p in paths:
            norm = check_repo_path(p)
            target = self._root / norm
            if norm in head_files or not (target.is_symlink() or target.is_file()):
                continue
            target.unlink()
            self._created.discard(norm)
            for parent in target.parents:  # the folders it left empty (never the repo root)
                if parent == self._root or not parent.is_dir() or any(parent.iterdir()):
                    break
                parent.rmdir()

    def diff(self, paths: list[str]) -> str:
        if not paths:
            return ""
        self._literal.add(
            "-f", "--intent-to-add", "--", *[p for p in paths if (self._root / p).exists()]
        )
        try:
            out: str = self._literal.diff("HEAD", "--", *paths)
        finally:
            with contextlib.suppress(git.GitCommandError):
                self._literal.reset("-q", "--", *paths)
        return out + ("\n" if out else "")

    def diff_since(self, base: str) -> str:
        """The committed changes from `base` to HEAD, as one unified diff (a PR's changes)."""
        try:
            out: str = self._repo.git.diff("--no-color", "--no-ext-diff", base, "HEAD", "--")
        except git.GitCommandError as exc:
            raise WorkspaceError(f"cannot diff {base[:10]}..HEAD: {exc.stderr.strip()}") from exc
        return out + ("\n" if out else "")

    def list_files(self) -> list[str]:
        return sorted(p for p in self._repo.git.ls_files("-z").split("\0") if p)

    def file_sizes(self) -> list[tuple[str, int]]:
        """Every tracked file that is in the working tree, with its size in bytes (from the
        file system, nothing read; a symlink is not followed)."""
        sizes = []
        for path in self.list_files():
            try:
                sizes.append((path, (self._root / path).lstat().st_size))
            except OSError:
                continue
        return sizes

    def dirty_paths(self) -> set[str]:
        out = self._repo.git.status(
            "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules"
        )
        return {entry[3:] for entry in out.split("\0") if len(entry) > 3}

    # -- git -------------------------------------------------------------------------------
    def head_sha(self) -> str:
        try:
            return self._repo.head.commit.hexsha
        except ValueError as exc:  # an unborn branch: GitPython's error names no remedy
            raise WorkspaceError(f"{self._root} has no commits yet") from exc

    def is_dirty(self) -> bool:
        return self._repo.is_dirty(untracked_files=False)

    def prepare_branch(self, branch: str) -> str:
        if self.is_dirty():
            raise WorkspaceError(
                f"{self._root} has uncommitted changes; commit or stash them before a run"
            )
        try:
            base = self._repo.head.commit.hexsha
        except ValueError as exc:
            raise WorkspaceError(f"{self._root} has no commits yet") from exc
        try:
            if branch in self._repo.heads:
                if self._repo.head.is_detached or self._repo.active_branch.name != branch:
                    self._repo.heads[branch].checkout()
                base = self._fork_point(branch)
            else:
                self._repo.create_head(branch, base).checkout()
        except git.GitCommandError as exc:
            raise WorkspaceError(f"cannot check out {branch}: {exc.stderr.strip()}") from exc
        return base

    def _fork_point(self, branch: str) -> str:
        """Where `branch` left the other branches: the parent of its oldest commit that no other
        local or remote-tracking branch holds (so a human commit on the branch does not hide the
        phases committed before it). Without other branches: its newest non-Autopack commit."""
        try:
            own = self._repo.git.rev_list(
                "--first-parent",
                branch,
                "--not",
                f"--exclude={branch}",
                "--branches",
                f"--exclude=*/{branch}",
                "--remotes",
            ).split()
        except git.GitCommandError:
            own = []
        if not own:
            return str(self._repo.commit(branch).hexsha)
        parents = self._repo.commit(own[-1]).parents
        if parents:  # else the branch shares nothing with another branch: use the trailers
            return str(parents[0].hexsha)
        for commit in self._repo.iter_commits(branch, first_parent=True):
            if PHASE_TRAILER not in self._trailers(commit.message):
                return str(commit.hexsha)
        raise WorkspaceError(f"branch {branch} has only Autopack commits; cannot find its base")

    @staticmethod
    def _trailers(message: str | bytes) -> dict[str, str]:
        text = message.decode() if isinstance(message, bytes) else message
        out: dict[str, str] = {}
        for line in text.strip().splitlines()[::-1]:
            if not line.strip():
                break
            key, sep, value = line.partition(": ")
            if sep:
                out[key.strip()] = value.strip()
        return out

    def committed_phases(self, base_sha: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for commit in self._repo.iter_commits(f"{base_sha}..HEAD"):
            phase = self._trailers(commit.message).get(PHASE_TRAILER)
            if phase and phase not in found:
                found[phase] = commit.hexsha
        return found

    def commit_trailers(self, sha: str) -> dict[str, str]:
        return self._trailers(self._repo.commit(sha).message)

    def commit_phase(
        self, phase_id: str, title: str, paths: list[str], trailers: dict[str, str]
    ) -> str:
        title = " ".join(title.split())  # one subject line, whatever the spec's title holds
        lines = [f"autopack({phase_id}): {title}", ""]
        lines += [f"{PHASE_TRAILER}: {phase_id}"] + [f"{k}: {v}" for k, v in trailers.items()]
        try:
            # A path neither on disk nor in the index (created, then deleted by a repair round)
            # has nothing to commit; naming it would fail with "pathspec did not match".
            tracked = self._tracked(paths)
            present = [p for p in paths if p in tracked or os.path.lexists(self._root / p)]
            if present:  # literal paths (a[1].txt is not a pattern); -f: the ops wrote them
                self._literal.add("-f", "-A", "--", *present)
            env = {
                "GIT_AUTHOR_NAME": self._author.name or "autopack",
                "GIT_AUTHOR_EMAIL": self._author.email or "autopack@localhost",
                "GIT_COMMITTER_NAME": self._author.name or "autopack",
                "GIT_COMMITTER_EMAIL": self._author.email or "autopack@localhost",
            }
            with self._repo.git.custom_environment(**env):
                self._repo.git.commit("--no-verify", "--allow-empty", "-q", "-m", "\n".join(lines))
        except git.GitCommandError as exc:
            raise WorkspaceError(
                f"commit of phase {phase_id} failed: {exc.stderr.strip()}"
            ) from exc
        for p in paths:  # committed: tracked from now on
            self._created.discard(check_repo_path(p))
        return self.head_sha()

    def push(self, branch: str, remote: str = "origin") -> None:
        try:
            self._repo.git.push(remote, f"{branch}:refs/heads/{branch}")
        except git.GitCommandError as exc:
            raise WorkspaceError(
                f"push of {branch} to {remote} failed: {exc.stderr.strip()}"
            ) from exc
