"""ChangeSet: in-memory application of ops over a FileSource; nothing reaches disk before
Workspace.write_changes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import git
import pytest

from autopack.adapters.git_workspace import GitWorkspace
from autopack.core.edits.changeset import ChangeSet, OpStatus
from autopack.core.edits.decoder import MalformedLine
from autopack.core.edits.ops import (
    AppendOp,
    DeleteOp,
    DoneOp,
    EditOp,
    ManifestFile,
    ManifestOp,
    RenameOp,
    WriteOp,
)
from autopack.core.paths import check_repo_path
from autopack.errors import PathPolicyError


class DictSource:
    """A FileSource over a dict: the port's contract without a file system."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def read(self, path: str) -> bytes | None:
        return self.files.get(check_repo_path(path))


def write(i: int, path: str, content: str) -> WriteOp:
    return WriteOp(op="write", id=i, path=path, content=content)


def test_every_op_kind_applies_in_memory() -> None:
    src = DictSource({"a.py": b"x = 1\nx = 1\n", "old.txt": b"old\n", "gone.txt": b"bye\n"})
    cs = ChangeSet(src)
    results = cs.apply_all(
        [
            write(1, "new/n.py", "first\n"),
            AppendOp(op="append", id=2, path="new/n.py", content="second\n"),
            EditOp(op="edit", id=3, path="a.py", old="x = 1", new="x = 2", count=2),
            DeleteOp(op="delete", id=4, path="gone.txt"),
            RenameOp(op="rename", id=5, path="old.txt", to="moved/old.txt"),
            ManifestOp(op="manifest", id=6, files=[ManifestFile(path="new/n.py", symbols=["f"])]),
            DoneOp(op="done", id=7, summary="all done"),
        ]
    )
    assert [r.status for r in results] == [OpStatus.applied] * 7
    assert cs.changes == {
        "new/n.py": b"first\nsecond\n",
        "a.py": b"x = 2\nx = 2\n",
        "gone.txt": None,
        "old.txt": None,
        "moved/old.txt": b"old\n",
    }
    assert cs.changed_paths() == ["a.py", "gone.txt", "moved/old.txt", "new/n.py", "old.txt"]
    assert cs.manifest == [ManifestFile(path="new/n.py", symbols=["f"])]
    assert cs.summary == "all done" and cs.done
    assert src.files["a.py"] == b"x = 1\nx = 1\n"  # the source is never written


def test_unchanged_and_transient_files_are_not_changed_paths() -> None:
    cs = ChangeSet(DictSource({"same.txt": b"same\n"}))
    cs.apply_all(
        [
            write(1, "same.txt", "same\n"),
            write(2, "tmp.txt", "scratch"),
            DeleteOp(op="delete", id=3, path="tmp.txt"),
        ]
    )
    assert [r.status for r in cs.results] == [OpStatus.applied] * 3
    assert cs.changed_paths() == []


def test_rename_carries_the_right_to_append() -> None:
    cs = ChangeSet(DictSource({}))
    cs.apply_all(
        [
            write(1, "a.txt", "a"),
            RenameOp(op="rename", id=2, path="a.txt", to="b.txt"),
            AppendOp(op="append", id=3, path="b.txt", content="b"),
            AppendOp(op="append", id=4, path="a.txt", content="c"),
        ]
    )
    assert [r.status for r in cs.results][:3] == [OpStatus.applied] * 3
    assert cs.results[3].status is OpStatus.rejected
    assert "append to a.txt" in cs.results[3].reason
    assert cs.changes == {"a.txt": None, "b.txt": b"ab"}


def test_edit_sees_earlier_ops_of_the_stream() -> None:
    cs = ChangeSet(DictSource({}))
    cs.apply_all(
        [
            write(1, "m.py", "def f():\n    pass\n"),
            EditOp(op="edit", id=2, path="m.py", old="pass", new="return 1"),
        ]
    )
    assert cs.current("m.py") == b"def f():\n    return 1\n"


def test_edit_of_a_binary_file_is_refused() -> None:
    cs = ChangeSet(DictSource({"img.bin": b"\xff\xd8\xff"}))
    result = cs.apply(EditOp(op="edit", id=1, path="img.bin", old="a", new="b"))
    assert result.status is OpStatus.rejected
    assert result.reason == "edit img.bin: the file is not UTF-8 text"


def test_repeated_ops_after_a_continuation_are_ignored() -> None:
    cs = ChangeSet(DictSource({}))
    cs.apply_all([write(1, "a", "1"), write(2, "b", "2")])
    cs.resume_after(cs.last_id)
    again = cs.apply_all([write(2, "b", "changed"), write(3, "c", "3")])
    assert [r.status for r in again] == [OpStatus.ignored, OpStatus.applied]
    assert again[0].reason == "repeated after continuation"
    assert cs.changes["b"] == b"2"


def test_duplicate_without_continuation_is_rejected() -> None:
    cs = ChangeSet(DictSource({}))
    cs.apply(write(1, "a", "1"))
    dup = cs.apply(write(1, "a", "x"))
    assert dup.status is OpStatus.rejected
    assert dup.reason == "duplicate id: got 1, expected 2 (ids 1-1 are used: number new ops from 2)"


def test_a_repair_turn_repeating_earlier_ids_is_rejected_with_the_id_to_use() -> None:
    """After a cut, repeated ids are the continuation re-sending what it already sent: ignored.
    A repair turn (reopen) that starts again at 1 is a mistake the model can fix: rejected, with
    the id to use, even when an earlier cut had made those ids 'repeatable'."""
    cs = ChangeSet(DictSource({}))
    cs.apply_all([write(1, "a", "1"), write(2, "b", "2")])
    cs.resume_after(2)  # a continuation: repeats are ignored
    assert cs.apply(write(1, "a", "1")).status is OpStatus.ignored
    cs.reopen()  # a repair turn
    again = cs.apply(write(1, "a", "fixed"))
    assert again.status is OpStatus.rejected
    assert again.reason == (
        "duplicate id: got 1, expected 3 (ids 1-2 are used: number new ops from 3)"
    )
    assert cs.apply(write(3, "a", "fixed")).status is OpStatus.applied
    assert cs.changes["a"] == b"fixed"


def test_malformed_line_uses_up_its_id() -> None:
    cs = ChangeSet(DictSource({}))
    cs.apply(write(1, "a", "1"))
    bad = cs.reject_line(MalformedLine(2, '{"op":"write","id":2,"path":"b"}', "missing 'content'"))
    assert (bad.id, bad.op, bad.status) == (2, "write", OpStatus.rejected)
    assert bad.reason == "line 2: missing 'content'"
    assert cs.apply(write(3, "c", "3")).status is OpStatus.applied


def test_unreadable_line_lets_the_next_op_skip_one_id_only() -> None:
    cs = ChangeSet(DictSource({}))
    cs.reject_line(MalformedLine(1, "garbage", "not valid JSON"))
    assert cs.apply(write(2, "a", "1")).status is OpStatus.applied
    cs.reject_line(MalformedLine(2, "garbage", "not valid JSON"))
    skipped = cs.apply(write(5, "b", "2"))
    assert skipped.status is OpStatus.rejected
    assert skipped.reason == "skipped id: got 5, expected 3"


def test_reopen_accepts_ops_after_done() -> None:
    cs = ChangeSet(DictSource({}))
    cs.apply_all([write(1, "a", "1"), DoneOp(op="done", id=2)])
    assert cs.apply(write(3, "b", "x")).reason == "op after 'done'"
    cs.reopen()
    assert not cs.done
    assert cs.apply(write(4, "b", "2")).status is OpStatus.applied


def test_source_policy_errors_become_rejections() -> None:
    class Refusing(DictSource):
        def read(self, path: str) -> bytes | None:
            if path.startswith("vendor/"):
                raise PathPolicyError(f"path {path!r} is a symlink")
            return super().read(path)

    cs = ChangeSet(Refusing({}))
    result = cs.apply(write(1, "vendor/x.py", "x"))
    assert result.status is OpStatus.rejected
    assert result.describe() == "op 1 (write vendor/x.py) rejected: path 'vendor/x.py' is a symlink"


def test_nothing_reaches_disk_before_write_changes(tmp_path: Path) -> None:
    repo = git.Repo.init(tmp_path)
    (tmp_path / "run.sh").write_text("echo 1\n", encoding="utf-8")
    os.chmod(tmp_path / "run.sh", 0o755)
    (tmp_path / "old.txt").write_text("old\n", encoding="utf-8")
    repo.git.add("-A")  # tracked: untracked files of the user's are never changed
    ws = GitWorkspace(tmp_path)
    cs = ChangeSet(ws)
    cs.apply_all(
        [
            EditOp(op="edit", id=1, path="run.sh", old="1", new="2"),
            write(2, "deep/new/file.txt", "n\n"),
            DeleteOp(op="delete", id=3, path="old.txt"),
        ]
    )
    assert (tmp_path / "run.sh").read_text(encoding="utf-8") == "echo 1\n"
    assert not (tmp_path / "deep").exists() and (tmp_path / "old.txt").exists()

    ws.write_changes({p: cs.changes[p] for p in cs.changed_paths()})
    assert (tmp_path / "run.sh").read_text(encoding="utf-8") == "echo 2\n"
    assert stat.S_IMODE((tmp_path / "run.sh").stat().st_mode) == 0o755  # mode kept
    assert (tmp_path / "deep/new/file.txt").read_bytes() == b"n\n"
    assert not (tmp_path / "old.txt").exists()
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


def test_write_changes_validates_every_path_before_writing_any(tmp_path: Path) -> None:
    git.Repo.init(tmp_path)
    ws = GitWorkspace(tmp_path)
    with pytest.raises(PathPolicyError, match=r"\.git/"):
        ws.write_changes({"a.txt": b"a", ".git/config": b"x"})
    assert not (tmp_path / "a.txt").exists()


def _repo_with_folder_symlink_and_notes(root: Path) -> GitWorkspace:
    """A committed `.github/workflows/ci.yml`, a committed `wfl -> .github/workflows` and an
    untracked `notes.txt` of the user's."""
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.invalid")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    (root / "README.md").write_text("# demo\n", encoding="utf-8")
    os.symlink(".github/workflows", root / "wfl")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "init")
    (root / "notes.txt").write_text("my notes\n", encoding="utf-8")
    ws = GitWorkspace(root)
    ws.prepare_branch("autopack/r1")
    return ws


def test_ops_through_a_folder_symlink_are_rejected_and_the_phase_commits(tmp_path: Path) -> None:
    ws = _repo_with_folder_symlink_and_notes(tmp_path)
    cs = ChangeSet(ws)
    results = cs.apply_all(
        [
            EditOp(op="edit", id=1, path="wfl/ci.yml", old="push", new="pull_request_target"),
            write(2, "wfl/x.yml", "on: push\n"),
            RenameOp(op="rename", id=3, path="README.md", to="wfl/README.md"),
            write(4, "ok.txt", "ok\n"),
        ]
    )
    assert [r.status for r in results] == [OpStatus.rejected] * 3 + [OpStatus.applied]
    for r, path in zip(results, ["wfl/ci.yml", "wfl/x.yml", "wfl/README.md"], strict=False):
        assert f"path {path!r} goes through the symlink 'wfl'" in r.reason, r.describe()
    ws.write_changes({p: cs.changes[p] for p in cs.changed_paths()})
    ws.commit_phase("p", "P", cs.changed_paths(), {})
    assert (tmp_path / ".github/workflows/ci.yml").read_text(encoding="utf-8") == "on: push\n"
    assert not (tmp_path / ".github/workflows/x.yml").exists()


def test_ops_on_an_untracked_file_of_the_user_are_rejected(tmp_path: Path) -> None:
    ws = _repo_with_folder_symlink_and_notes(tmp_path)
    cs = ChangeSet(ws)
    results = cs.apply_all(
        [
            DeleteOp(op="delete", id=1, path="notes.txt"),
            RenameOp(op="rename", id=2, path="notes.txt", to="moved.txt"),
            write(3, "notes.txt", "model\n"),
            EditOp(op="edit", id=4, path="notes.txt", old="my", new="the model's"),
            RenameOp(op="rename", id=5, path="README.md", to="notes.txt"),
            write(6, "ok.txt", "ok\n"),
        ]
    )
    assert [r.status for r in results] == [OpStatus.rejected] * 5 + [OpStatus.applied]
    verbs = ["delete", "rename", "overwrite", "overwrite", "overwrite"]
    for r, verb in zip(results, verbs, strict=False):
        assert (
            f"path 'notes.txt' is an untracked file of yours; Autopack does not {verb} it"
            in r.reason
        ), r.describe()
    paths = cs.changed_paths()
    ws.write_changes({p: cs.changes[p] for p in paths})
    ws.commit_phase("p", "P", paths, {})  # never 'pathspec did not match'
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "my notes\n"
    assert "notes.txt" not in ws.list_files() and not (tmp_path / "moved.txt").exists()


def test_a_file_created_earlier_in_the_run_stays_editable(tmp_path: Path) -> None:
    """A repair round (or a later ChangeSet) may change what the run itself wrote."""
    ws = _repo_with_folder_symlink_and_notes(tmp_path)
    cs = ChangeSet(ws)
    cs.apply(write(1, "new.py", "X = 1\n"))
    ws.write_changes({p: cs.changes[p] for p in cs.changed_paths()})
    again = ChangeSet(ws)
    edit = EditOp(op="edit", id=1, path="new.py", old="1", new="2")
    assert again.apply(edit).status is OpStatus.applied
    assert cs.apply(DeleteOp(op="delete", id=2, path="new.py")).status is OpStatus.applied
