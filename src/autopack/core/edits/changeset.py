"""Edit application on in-memory text. A ChangeSet applies ops on top of a read-only FileSource (the
repo as it is), keeps the resulting file states in memory, and only `Workspace.write_changes` puts
them on disk. Every op gets a result: applied, rejected (with the reason) or ignored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from autopack.core.edits.decoder import MalformedLine
from autopack.core.edits.ops import (
    AppendOp,
    DeleteOp,
    DoneOp,
    EditOp,
    ManifestFile,
    ManifestOp,
    Op,
    RenameOp,
    WriteOp,
)
from autopack.core.paths import check_repo_path
from autopack.errors import EditError, PathPolicyError

_RAW_ID = re.compile(r'"id"\s*:\s*"?(\d+)')
_RAW_OP = re.compile(r'"op"\s*:\s*"(\w+)"')


class FileSource(Protocol):
    """Read access to the repo as it is. `read` returns None for a missing file and raises
    PathPolicyError for a path that resolves outside the repo, is a symlink, or is a directory."""

    def read(self, path: str) -> bytes | None: ...


@runtime_checkable
class TracksFiles(Protocol):
    """A FileSource that can tell the user's untracked files (GitWorkspace). With one, ops that
    would delete, rename or overwrite such a file are rejected: git keeps no copy of it."""

    def is_untracked(self, path: str) -> bool: ...


class OpStatus(StrEnum):
    applied = "applied"
    rejected = "rejected"
    ignored = "ignored"


class OpResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    op: str
    path: str | None = None
    status: OpStatus
    reason: str = ""

    def describe(self) -> str:
        where = f" {self.path}" if self.path else ""
        why = f": {self.reason}" if self.reason else ""
        return f"op {self.id} ({self.op}{where}) {self.status.value}{why}"


def _text_bytes(content: str, what: str) -> bytes:
    if "\x00" in content:
        raise EditError(f"{what} contains a NUL byte; only text files can be written")
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EditError(f"{what} is not valid UTF-8 (lone surrogate at {exc.start})") from None


class ChangeSet:
    """Applies a stream's ops in memory. `resume_after` makes ops with id <= K (repeated after a
    continuation) ignored instead of rejected."""

    def __init__(self, source: FileSource) -> None:
        self._source = source
        self._files: dict[str, bytes | None] = {}  # path -> new content, None = deleted
        self._written: set[str] = set()  # written by this stream (append allowed)
        self.results: list[OpResult] = []
        self.manifest: list[ManifestFile] = []
        self.summary: str | None = None
        self.last_id = 0
        self._replay_upto = 0
        self._unknown_ids = 0  # malformed lines whose id could not be read

    # -- queries ---------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.summary is not None

    @property
    def changes(self) -> dict[str, bytes | None]:
        """Final state of every touched path: bytes, or None when it is to be deleted."""
        return dict(self._files)

    def changed_paths(self) -> list[str]:
        return sorted(p for p, new in self._files.items() if new != self._source.read(p))

    def applied(self) -> list[OpResult]:
        return [r for r in self.results if r.status is OpStatus.applied]

    def rejected(self) -> list[OpResult]:
        return [r for r in self.results if r.status is OpStatus.rejected]

    def current(self, path: str) -> bytes | None:
        if path in self._files:
            return self._files[path]
        return self._source.read(path)

    # -- applying --------------------------------------------------------------------------
    def reopen(self) -> None:
        """Accept ops after 'done' again (a repair turn follows). A repair turn's ops go on from
        the next id: one that repeats an earlier id is rejected with the id to use, never taken
        for a continuation's repeat and ignored (that is only after a cut: `resume_after`)."""
        self.summary = None
        self._replay_upto = 0

    def resume_after(self, op_id: int) -> None:
        """Ops with id <= op_id that arrive again (a continuation repeating itself) are ignored."""
        self._replay_upto = max(self._replay_upto, op_id)

    def apply_all(self, ops: Iterable[Op]) -> list[OpResult]:
        return [self.apply(op) for op in ops]

    def apply(self, op: Op) -> OpResult:
        path = getattr(op, "path", None)
        if op.id <= self.last_id and op.id <= self._replay_upto:
            return self._record(op, path, OpStatus.ignored, "repeated after continuation")
        gap = self._unknown_ids
        self._unknown_ids = 0
        if gap and self.last_id + 1 < op.id <= self.last_id + 1 + gap:
            self.last_id = op.id - 1  # the unreadable line(s) before held the ids skipped
        if op.id != self.last_id + 1:
            kind = "duplicate" if op.id <= self.last_id else "skipped"
            reason = f"{kind} id: got {op.id}, expected {self.last_id + 1}"
            if kind == "duplicate":
                reason += (
                    f" (ids 1-{self.last_id} are used: number new ops from {self.last_id + 1})"
                )
            return self._record(op, path, OpStatus.rejected, reason)
        self.last_id = op.id
        if self.done:
            return self._record(op, path, OpStatus.rejected, "op after 'done'")
        try:
            self._apply(op)
        except EditError as exc:
            return self._record(op, path, OpStatus.rejected, str(exc))
        return self._record(op, path, OpStatus.applied, "")

    def reject_line(self, line: MalformedLine) -> OpResult:
        """Record a malformed line as a rejected op. If it carries the next id, that id is used up,
        so the ops after it are not all rejected as 'skipped'."""
        op_id, kind = 0, "?"
        try:
            data = json.loads(line.raw)
        except ValueError:
            data = None
        if isinstance(data, dict):
            raw_id, raw_op = data.get("id"), data.get("op")
            if isinstance(raw_id, int) and not isinstance(raw_id, bool):
                op_id = raw_id
            kind = raw_op if isinstance(raw_op, str) else "?"
        if op_id == 0:  # not JSON, or a wrong id type: read what the line says
            found_id, found_op = _RAW_ID.search(line.raw), _RAW_OP.search(line.raw)
            op_id = int(found_id.group(1)) if found_id else 0
            kind = found_op.group(1) if found_op and kind == "?" else kind
        if op_id == self.last_id + 1 and not self.done:
            self.last_id = op_id
        elif op_id == 0 and not self.done:
            self._unknown_ids += 1
        result = OpResult(
            id=op_id, op=kind, status=OpStatus.rejected, reason=f"line {line.line_no}: {line.error}"
        )
        self.results.append(result)
        return result

    def _record(self, op: Op, path: str | None, status: OpStatus, reason: str) -> OpResult:
        if path is not None and not path.isprintable():  # NUL, newline, lone surrogate: escaped
            path = repr(path)[1:-1]
        result = OpResult(id=op.id, op=op.op, path=path, status=status, reason=reason)
        self.results.append(result)
        return result

    def _checked(self, path: str, verb: str | None = None) -> str:
        """The normalised path, checked by the source; with `verb` (what the op would do to a file
        there), also refused when the path holds an untracked file of the user's."""
        norm = check_repo_path(path)
        self._source.read(norm)  # raises PathPolicyError for symlinks, escapes, directories
        if verb is None or norm in self._files or not isinstance(self._source, TracksFiles):
            return norm  # a path this stream touched already passed this check
        if self._source.is_untracked(norm):
            raise PathPolicyError(
                f"path {norm!r} is an untracked file of yours; Autopack does not {verb} it"
            )
        return norm

    def _check_file_slot(self, path: str) -> None:
        """`path` may hold a file: no parent is a file and it is no directory in this stream."""
        parts = path.split("/")
        for n in range(1, len(parts)):
            parent = "/".join(parts[:n])
            if self._files.get(parent) is not None:
                raise PathPolicyError(
                    f"path {path!r}: its parent {parent!r} is a file written in this stream"
                )
        prefix = path + "/"
        if any(p.startswith(prefix) and new is not None for p, new in self._files.items()):
            raise PathPolicyError(
                f"path {path!r} is a directory of files written in this stream, not a file"
            )

    def _apply(self, op: Op) -> None:
        if isinstance(op, WriteOp):
            path = self._checked(op.path, "overwrite")
            self._check_file_slot(path)
            self._files[path] = _text_bytes(op.content, f"content for {path}")
            self._written.add(path)
        elif isinstance(op, AppendOp):
            path = self._checked(op.path)
            if path not in self._written:
                raise EditError(
                    f"append to {path}: only a file written earlier in this stream can be appended to"
                )
            current = self._files.get(path) or b""
            self._files[path] = current + _text_bytes(op.content, f"content for {path}")
        elif isinstance(op, EditOp):
            self._edit(op)
        elif isinstance(op, DeleteOp):
            path = self._checked(op.path, "delete")
            if self.current(path) is None:
                raise EditError(f"delete {path}: the file does not exist")
            self._files[path] = None
            self._written.discard(path)
        elif isinstance(op, RenameOp):
            src, dst = self._checked(op.path, "rename"), self._checked(op.to, "overwrite")
            data = self.current(src)
            if data is None:
                raise EditError(f"rename {src}: the file does not exist")
            if src == dst:
                raise EditError(f"rename {src}: source and target are the same")
            if self.current(dst) is not None:
                raise EditError(
                    f"rename {src} -> {dst}: the target exists; rename never overwrites"
                )
            self._check_file_slot(dst)
            self._files[dst], self._files[src] = data, None
            if src in self._written:
                self._written.discard(src)
                self._written.add(dst)
        elif isinstance(op, ManifestOp):
            for f in op.files:
                check_repo_path(f.path)
            self.manifest.extend(op.files)
        elif isinstance(op, DoneOp):
            self.summary = op.summary

    def _edit(self, op: EditOp) -> None:
        path = self._checked(op.path, "overwrite")
        if op.old == "":
            raise EditError(f"edit {path}: 'old' is empty; use write to create a file")
        data = self.current(path)
        if data is None:
            raise EditError(f"edit {path}: the file does not exist")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EditError(f"edit {path}: the file is not UTF-8 text") from None
        found = text.count(op.old)
        if found != op.count:
            raise EditError(
                f"edit {path}: 'old' must occur exactly {op.count} time(s), found {found}"
            )
        _text_bytes(op.new, f"'new' for {path}")
        self._files[path] = text.replace(op.old, op.new).encode("utf-8")


__all__ = ["ChangeSet", "FileSource", "OpResult", "OpStatus", "PathPolicyError", "TracksFiles"]
