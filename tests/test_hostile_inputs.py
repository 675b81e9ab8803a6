"""Hostile and malformed inputs to the decoder and the applier, and to the run spec.

Each edit-stream case is decoded with StreamDecoder, applied through a ChangeSet and written with
GitWorkspace.write_changes, as the executor does. Every case asserts the rejection reason (naming
the path, field or count) and that the whole tree (repo, its .git and a folder outside the repo,
bytes and symlinks included) changed exactly as the accepted ops say and in no other way."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import pytest

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.spec_file import load_spec
from autopack.core.edits.changeset import ChangeSet
from autopack.core.edits.decoder import DecodedOp, MalformedLine, StreamDecoder
from autopack.errors import SpecError

REPO_FILES = {
    "README.md": b"# demo\n",
    "src/app.py": b"def hello():\n    return 'hi'\n",
    "dup.txt": b"x = 1\nx = 1\n",
    ".github/workflows/ci.yml": b"on: push\n",
}
NOTES = b"my notes\n"
SECRET = b"outside the repo\n"


# -- helpers ---------------------------------------------------------------------------------
def make_repo(tmp: Path) -> tuple[Path, Path]:
    """A repo with committed files and folder symlinks, hostile symlinks, an untracked file of the
    user's, and a folder outside it."""
    root, outside = tmp / "repo", tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    repo = git.Repo.init(root)
    for rel, data in REPO_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    os.symlink(".github/workflows", root / "wfl")  # committed folder symlinks inside the repo
    os.symlink(".github", root / "ghl")
    os.symlink("src", root / "srclink")
    repo.git.add("--", *REPO_FILES, "wfl", "ghl", "srclink")
    repo.git.commit(
        "-q",
        "-m",
        "init",
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@x.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@x.invalid",
        },
    )
    (root / "notes.txt").write_bytes(NOTES)  # untracked: the user's own
    os.symlink(outside, root / "linkdir")  # a directory leading out of the repo
    os.symlink(outside / "secret.txt", root / "linkfile")  # a file leading out
    os.symlink("README.md", root / "alias")  # a symlink inside the repo
    os.symlink(".git", root / "gitlink")  # a directory leading into .git/
    os.symlink(outside / "missing.txt", root / "dangling")
    os.mkfifo(root / "pipe")  # reading it would block forever
    return root, outside


def snapshot(top: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry under `top`: files with their bytes, symlinks with their target, directories."""
    out: dict[str, tuple[str, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(top).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p).encode())
            elif p.is_dir():
                out[rel] = ("dir", b"")
            elif p.is_fifo():
                out[rel] = ("fifo", b"")
            else:
                out[rel] = ("file", p.read_bytes())
    return out


def apply_stream(ws: GitWorkspace, stream: str | bytes) -> ChangeSet:
    """Decode, apply in memory, then write the change set, as the executor does."""
    changes = ChangeSet(ws)
    decoder = StreamDecoder()
    items = decoder.feed_bytes(stream) if isinstance(stream, bytes) else decoder.feed(stream)
    for item in items:
        if isinstance(item, DecodedOp):
            changes.apply(item.op)
        else:
            changes.reject_line(item)
    if decoder.tail.strip():
        changes.reject_line(
            MalformedLine(decoder.lines_seen + 1, decoder.tail, "incomplete last line")
        )
    ws.write_changes({p: changes.changes[p] for p in changes.changed_paths()})
    return changes


def expected_after(
    before: dict[str, tuple[str, bytes]], disk: dict[str, bytes | None]
) -> dict[str, tuple[str, bytes]]:
    after = dict(before)
    for rel, data in disk.items():
        key = f"repo/{rel}"
        if data is None:
            after.pop(key, None)
            continue
        after[key] = ("file", data)
        parts = key.split("/")
        for n in range(2, len(parts)):
            after.setdefault("/".join(parts[:n]), ("dir", b""))
    return after


def W(op_id: int, path: str, content: str = "data\n") -> dict[str, Any]:
    return {"op": "write", "id": op_id, "path": path, "content": content}


def E(op_id: int, path: str, old: str, new: str, **extra: Any) -> dict[str, Any]:
    return {"op": "edit", "id": op_id, "path": path, "old": old, "new": new, **extra}


def A(op_id: int, path: str, content: str) -> dict[str, Any]:
    return {"op": "append", "id": op_id, "path": path, "content": content}


def D(op_id: int, path: str) -> dict[str, Any]:
    return {"op": "delete", "id": op_id, "path": path}


def R(op_id: int, path: str, to: str) -> dict[str, Any]:
    return {"op": "rename", "id": op_id, "path": path, "to": to}


def DONE(op_id: int) -> dict[str, Any]:
    return {"op": "done", "id": op_id, "summary": "ok"}


OK = b"ok\n"


@dataclass
class Case:
    name: str
    lines: list[dict[str, Any] | str]
    rejects: list[tuple[int, list[str]]]  # (op id, substrings the reason must contain)
    applied: list[int]
    disk: dict[str, bytes | None] = field(default_factory=dict)
    cut: bool = False  # no newline after the last line

    def text(self, outside: Path) -> str:
        out = [ln if isinstance(ln, str) else json.dumps(ln) for ln in self.lines]
        return "\n".join(out).replace("OUTSIDE", str(outside)) + ("" if self.cut else "\n")


def good(op_id: int) -> dict[str, Any]:
    return W(op_id, "ok.txt", "ok\n")


CASES: list[Case] = [
    # -- traversal and absolute paths --
    Case(
        "dotdot",
        [W(1, "../x"), good(2), DONE(3)],
        [(1, ["'../x'", "'..'"])],
        [2, 3],
        {"ok.txt": OK},
    ),
    Case(
        "dotdot-nested",
        [W(1, "a/../../x"), good(2)],
        [(1, ["'a/../../x'", "'..'"])],
        [2],
        {"ok.txt": OK},
    ),
    Case("dotdot-inside", [W(1, "src/../README.md")], [(1, ["'src/../README.md'", "'..'"])], []),
    Case("absolute-outside", [W(1, "OUTSIDE/abs.txt")], [(1, ["abs.txt", "absolute"])], []),
    Case(
        "absolute-root",
        [W(1, "/etc/autopack-test")],
        [(1, ["'/etc/autopack-test'", "absolute"])],
        [],
    ),
    Case("windows-backslash", [W(1, "C:\\Users\\x")], [(1, ["Users", "backslash"])], []),
    Case("windows-drive", [W(1, "C:/Users/x")], [(1, ["'C:/Users/x'", "absolute"])], []),
    Case("unc-path", [W(1, "\\\\host\\share\\x")], [(1, ["host", "backslash"])], []),
    Case("backslash-dotdot", [W(1, "..\\..\\x")], [(1, ["backslash"])], []),
    Case("repo-root", [W(1, ".")], [(1, ["'.'", "repo root"])], []),
    Case("empty-path", [W(1, "")], [(1, ["path is empty"])], []),
    Case(
        "name-too-long",
        [W(1, "x" * 300), good(2)],
        [(1, ["longer than 255 bytes"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "nested-name-too-long",
        [good(1), W(2, "d/" + "é" * 200)],
        [(2, ["longer than 255 bytes"])],
        [1],
        {"ok.txt": OK},
    ),
    Case(
        "path-too-long", [W(1, "/".join(["dir"] * 300))], [(1, ["too long (limit 1024 bytes)"])], []
    ),
    # -- symlinks --
    Case(
        "symlink-dir-escape",
        [W(1, "linkdir/evil.txt"), good(2)],
        [(1, ["'linkdir/evil.txt'", "outside the repo", "symlink"])],
        [2],
        {"ok.txt": OK},
    ),
    Case("symlink-file-escape", [W(1, "linkfile", "pwned")], [(1, ["'linkfile'", "symlink"])], []),
    Case(
        "symlink-file-inside",
        [E(1, "alias", "# demo", "# pwned")],
        [(1, ["'alias'", "symlink"])],
        [],
    ),
    Case(
        "symlink-into-git",
        [W(1, "gitlink/hooks/pre-commit", "#!/bin/sh\n")],
        [(1, ["gitlink/hooks/pre-commit", ".git/"])],
        [],
    ),
    Case("symlink-dangling", [W(1, "dangling")], [(1, ["'dangling'", "symlink"])], []),
    Case("fifo-write", [W(1, "pipe")], [(1, ["'pipe'", "not a regular file"])], []),
    Case("fifo-edit", [E(1, "pipe", "a", "b")], [(1, ["'pipe'", "not a regular file"])], []),
    Case("symlink-delete", [D(1, "linkfile")], [(1, ["'linkfile'", "symlink"])], []),
    Case(
        "rename-into-symlinked-dir",
        [R(1, "README.md", "linkdir/README.md")],
        [(1, ["linkdir/README.md", "outside the repo"])],
        [],
    ),
    # -- folder symlinks committed inside the repo (a protected path must not be reachable) --
    Case(
        "symlink-folder-protected-edit",
        [E(1, "wfl/ci.yml", "push", "pull_request_target"), good(2)],
        [(1, ["'wfl/ci.yml'", "symlink 'wfl'", "'.github/workflows'"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "symlink-folder-protected-write",
        [W(1, "wfl/x.yml", "on: push\n")],
        [(1, ["'wfl/x.yml'", "symlink 'wfl'"])],
        [],
    ),
    Case(
        "symlink-folder-protected-nested",
        [W(1, "ghl/workflows/ci.yml", "on: push\n")],
        [(1, ["'ghl/workflows/ci.yml'", "symlink 'ghl'", "'.github'"])],
        [],
    ),
    Case(
        "symlink-folder-inside-write",
        [W(1, "srclink/new.py")],
        [(1, ["'srclink/new.py'", "symlink 'srclink'", "'src'"])],
        [],
    ),
    Case(
        "symlink-folder-inside-delete",
        [D(1, "srclink/app.py")],
        [(1, ["'srclink/app.py'", "symlink 'srclink'"])],
        [],
    ),
    Case(
        "rename-into-symlinked-folder-inside",
        [R(1, "README.md", "wfl/README.md")],
        [(1, ["'wfl/README.md'", "symlink 'wfl'"])],
        [],
    ),
    # -- untracked files of the user's (not in git: nothing would keep a copy) --
    Case(
        "untracked-delete",
        [D(1, "notes.txt"), good(2)],
        [(1, ["'notes.txt'", "untracked file of yours", "does not delete"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "untracked-rename",
        [R(1, "notes.txt", "moved.txt")],
        [(1, ["'notes.txt'", "untracked file of yours", "does not rename"])],
        [],
    ),
    Case(
        "untracked-write",
        [W(1, "notes.txt", "model\n")],
        [(1, ["'notes.txt'", "untracked file of yours", "does not overwrite"])],
        [],
    ),
    Case(
        "untracked-edit",
        [E(1, "notes.txt", "my", "the model's")],
        [(1, ["'notes.txt'", "untracked file of yours", "does not overwrite"])],
        [],
    ),
    Case(
        "rename-onto-untracked",
        [R(1, "README.md", "notes.txt")],
        [(1, ["'notes.txt'", "untracked file of yours"])],
        [],
    ),
    # -- .git/ --
    Case("git-dir", [W(1, ".git/config")], [(1, ["'.git/config'", ".git/"])], []),
    Case("git-dir-upper", [W(1, ".GIT/config")], [(1, ["'.GIT/config'", ".git/"])], []),
    Case("git-dir-nested", [W(1, "x/.git/config")], [(1, ["'x/.git/config'", ".git/"])], []),
    Case(
        "git-rename-target",
        [R(1, "README.md", ".git/hooks/post-checkout")],
        [(1, [".git/hooks/post-checkout", ".git/"])],
        [],
    ),
    Case("git-delete", [D(1, ".git/HEAD")], [(1, ["'.git/HEAD'", ".git/"])], []),
    # Aliases Windows or macOS resolve to .git: trailing dots/spaces, streams, 8.3, ignorables.
    Case(
        "git-alias-trailing-dot",
        [W(1, ".git./config"), good(2)],
        [(1, ["'.git./config'", "inside .git/"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "git-alias-trailing-space", [W(1, ".git /config")], [(1, ["'.git /config'", ".git/"])], []
    ),
    Case(
        "git-alias-stream",
        [W(1, "sub/.git::$INDEX_ALLOCATION/config")],
        [(1, ["'sub/.git::$INDEX_ALLOCATION/config'", "inside .git/"])],
        [],
    ),
    Case("git-alias-8dot3", [W(1, "GIT~1/config")], [(1, ["'GIT~1/config'", "inside .git/"])], []),
    Case(
        "git-alias-hfs-ignorable",
        [W(1, ".g\u200cit/hooks/pre-commit")],
        [(1, ["'.g\\u200cit/hooks/pre-commit'", "inside .git/"])],
        [],
    ),
    Case(
        "git-alias-rename-target",
        [R(1, "README.md", "x/git~2/hooks/post-checkout")],
        [(1, ["x/git~2/hooks/post-checkout", "inside .git/"])],
        [],
    ),
    # -- NUL, control characters, invalid UTF-8 --
    Case("nul-in-path", [W(1, "a\x00b"), good(2)], [(1, ["NUL"])], [2], {"ok.txt": OK}),
    Case("control-in-path", [W(1, "a\nb")], [(1, ["control character U+000A"])], []),
    Case("del-in-path", [W(1, "a\x7fb")], [(1, ["control character U+007F"])], []),
    Case(
        "c1-in-path",
        [W(1, "a\x85b"), good(2)],
        [(1, ["control character U+0085"])],
        [2],
        {"ok.txt": OK},
    ),
    Case("bidi-in-path", [W(1, "evil\u202etxt.py")], [(1, ["bidi control character U+202E"])], []),
    Case("isolate-in-path", [W(1, "a\u2066b.py")], [(1, ["bidi control character U+2066"])], []),
    Case(
        "zero-width-in-path",
        [W(1, "a\u200bb.py")],
        [(1, ["invisible format character U+200B"])],
        [],
    ),
    Case("bom-in-path", [W(1, "\ufeffa.py")], [(1, ["invisible format character U+FEFF"])], []),
    # -- folders --
    Case(
        "write-to-folder",
        [W(1, "newdir/"), good(2)],
        [(1, ["'newdir/'", "names a folder", "cannot end with '/'"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "rename-to-folder", [R(1, "README.md", "docs/")], [(1, ["'docs/'", "names a folder"])], []
    ),
    Case("nul-in-content", [W(1, "evil.txt", "a\x00b")], [(1, ["evil.txt", "NUL"])], []),
    Case("nul-in-edit-new", [E(1, "README.md", "# demo", "\x00")], [(1, ["README.md", "NUL"])], []),
    Case(
        "surrogate-in-content",
        ['{"op":"write","id":1,"path":"s.txt","content":"a\\ud800b"}', good(2)],
        [(1, ["s.txt", "not valid UTF-8"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "surrogate-in-path",
        ['{"op":"write","id":1,"path":"\\udc80.txt","content":"x"}'],
        [(1, ["not valid UTF-8"])],
        [],
    ),
    Case(
        "surrogate-in-append",
        [W(1, "s.txt", "first\n"), '{"op":"append","id":2,"path":"s.txt","content":"\\udfff"}'],
        [(2, ["s.txt", "not valid UTF-8"])],
        [1],
        {"s.txt": b"first\n"},
    ),
    # -- edit --
    Case(
        "edit-old-missing",
        [E(1, "README.md", "nope", "x")],
        [(1, ["README.md", "exactly 1 time(s), found 0"])],
        [],
    ),
    Case(
        "edit-old-ambiguous", [E(1, "dup.txt", "x = 1", "x = 2")], [(1, ["dup.txt", "found 2"])], []
    ),
    Case(
        "edit-count-mismatch",
        [E(1, "dup.txt", "x = 1", "x = 2", count=3)],
        [(1, ["dup.txt", "exactly 3 time(s), found 2"])],
        [],
    ),
    Case(
        "edit-empty-old", [E(1, "README.md", "", "x")], [(1, ["README.md", "'old' is empty"])], []
    ),
    Case(
        "edit-missing-file", [E(1, "ghost.py", "a", "b")], [(1, ["ghost.py", "does not exist"])], []
    ),
    Case(
        "edit-count-zero",
        [E(1, "dup.txt", "x = 1", "y", count=0), E(2, "dup.txt", "x = 1", "y", count=2)],
        [(1, ["count", "greater than or equal to 1"])],
        [2],
        {"dup.txt": b"y\ny\n"},
    ),
    # -- append --
    Case(
        "append-unknown",
        [A(1, "new.txt", "x")],
        [(1, ["new.txt", "written earlier in this stream"])],
        [],
    ),
    Case(
        "append-existing-not-written",
        [A(1, "README.md", "more")],
        [(1, ["README.md", "written earlier in this stream"])],
        [],
    ),
    Case(
        "append-after-delete",
        [W(1, "t.txt", "a"), D(2, "t.txt"), A(3, "t.txt", "b")],
        [(3, ["t.txt", "written earlier"])],
        [1, 2],
    ),
    # -- rename / delete --
    Case(
        "rename-onto-existing",
        [R(1, "README.md", "src/app.py")],
        [(1, ["README.md -> src/app.py", "never overwrites"])],
        [],
    ),
    Case(
        "rename-onto-written",
        [W(1, "n.txt", "n"), R(2, "README.md", "n.txt")],
        [(2, ["n.txt", "never overwrites"])],
        [1],
        {"n.txt": b"n"},
    ),
    Case(
        "rename-missing", [R(1, "ghost.txt", "g2.txt")], [(1, ["ghost.txt", "does not exist"])], []
    ),
    Case("rename-same", [R(1, "README.md", "README.md")], [(1, ["README.md", "same"])], []),
    Case("delete-missing", [D(1, "ghost.txt")], [(1, ["ghost.txt", "does not exist"])], []),
    Case("delete-directory", [D(1, "src")], [(1, ["'src'", "directory"])], []),
    # -- files vs directories --
    Case("write-directory", [W(1, "src")], [(1, ["'src'", "directory"])], []),
    Case("write-under-file", [W(1, "README.md/x")], [(1, ["README.md/x", "parent is a file"])], []),
    Case(
        "write-under-written-file",
        [W(1, "a.txt", "a"), W(2, "a.txt/b")],
        [(2, ["a.txt/b", "parent 'a.txt' is a file"])],
        [1],
        {"a.txt": b"a"},
    ),
    Case(
        "write-over-written-dir",
        [W(1, "d/e", "e"), W(2, "d")],
        [(2, ["'d'", "directory"])],
        [1],
        {"d/e": b"e"},
    ),
    # -- ids --
    Case(
        "duplicate-id",
        [good(1), W(1, "b.txt")],
        [(1, ["duplicate id: got 1, expected 2"])],
        [1],
        {"ok.txt": OK},
    ),
    Case(
        "skipped-id",
        [good(1), W(3, "b.txt")],
        [(3, ["skipped id: got 3, expected 2"])],
        [1],
        {"ok.txt": OK},
    ),
    Case(
        "op-after-done",
        [good(1), DONE(2), W(3, "late.txt")],
        [(3, ["after 'done'"])],
        [1, 2],
        {"ok.txt": OK},
    ),
    Case(
        "id-zero",
        [W(0, "z.txt"), good(1)],
        [(0, ["id", "greater than or equal to 1"])],
        [1],
        {"ok.txt": OK},
    ),
    Case(
        "id-string",
        ['{"op":"write","id":"1","path":"s.txt","content":"x"}', W(2, "ok.txt", "ok\n")],
        [(1, ["line 1", "id", "valid integer"])],
        [2],
        {"ok.txt": OK},
    ),
    Case(
        "id-bool",
        ['{"op":"write","id":true,"path":"s.txt","content":"x"}'],
        [(0, ["id", "valid integer"])],
        [],
    ),
    Case(
        "id-missing",
        [good(1), '{"op":"write","path":"m.txt","content":"x"}', W(3, "c.txt", "c")],
        [(0, ["line 2", "missing field 'id'"])],
        [1, 3],
        {"ok.txt": OK, "c.txt": b"c"},
    ),
    # -- malformed lines --
    Case(
        "malformed-json-mid",
        [good(1), '{"op":"write","id":2,"path":', W(3, "c.txt", "c")],
        [(2, ["line 2", "not valid JSON"])],
        [1, 3],
        {"ok.txt": OK, "c.txt": b"c"},
    ),
    Case(
        "garbage-line-mid",
        [good(1), "Here are the ops:", W(2, "c.txt", "c")],
        [(0, ["line 2", "not valid JSON"])],
        [1, 2],
        {"ok.txt": OK, "c.txt": b"c"},
    ),
    Case(
        "unknown-op",
        [good(1), {"op": "chmod", "id": 2, "path": "x", "mode": "777"}, W(3, "c.txt", "c")],
        [(2, ["line 2", "unknown op 'chmod'"])],
        [1, 3],
        {"ok.txt": OK, "c.txt": b"c"},
    ),
    Case(
        "missing-op",
        [{"id": 1, "path": "x.txt", "content": "x"}],
        [(1, ["missing field 'op'"])],
        [],
    ),
    Case(
        "missing-path",
        [{"op": "write", "id": 1, "content": "x"}],
        [(1, ["missing field 'path'"])],
        [],
    ),
    Case(
        "missing-content",
        [{"op": "write", "id": 1, "path": "x.txt"}],
        [(1, ["missing field 'content'"])],
        [],
    ),
    Case(
        "missing-rename-to",
        [{"op": "rename", "id": 1, "path": "README.md"}],
        [(1, ["missing field 'to'"])],
        [],
    ),
    Case(
        "content-number",
        [{"op": "write", "id": 1, "path": "x.txt", "content": 5}],
        [(1, ["content", "valid string"])],
        [],
    ),
    Case(
        "path-null",
        [{"op": "write", "id": 1, "path": None, "content": "x"}],
        [(1, ["path", "valid string"])],
        [],
    ),
    Case(
        "count-string",
        [E(1, "dup.txt", "x = 1", "y", count="2")],
        [(1, ["count", "valid integer"])],
        [],
    ),
    Case("extra-field", [{**W(1, "x.txt"), "mode": "755"}], [(1, ["unknown field 'mode'"])], []),
    Case(
        "json-array-line",
        [good(1), "[1, 2]", W(2, "c.txt", "c")],
        [(0, ["line 2", "expected a JSON object, got list"])],
        [1, 2],
        {"ok.txt": OK, "c.txt": b"c"},
    ),
    Case("json-string-line", ['"write"'], [(0, ["line 1", "got str"])], []),
    Case(
        "manifest-bad-path",
        [{"op": "manifest", "id": 1, "files": [{"path": "../x"}]}],
        [(1, ["'../x'", "'..'"])],
        [],
    ),
    Case(
        "manifest-files-not-list",
        [{"op": "manifest", "id": 1, "files": "a.py"}],
        [(1, ["files", "valid list"])],
        [],
    ),
    Case(
        "incomplete-tail",
        [good(1), '{"op":"write","id":2,"path":"cut.txt","content":"par'],
        [(2, ["line 2", "incomplete last line"])],
        [1],
        {"ok.txt": OK},
        cut=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_stream(tmp_path: Path, case: Case) -> None:
    root, outside = make_repo(tmp_path)
    ws = GitWorkspace(root)
    before = snapshot(tmp_path)

    changes = apply_stream(ws, case.text(outside))

    rejected = changes.rejected()
    assert len(rejected) == len(case.rejects), [r.describe() for r in rejected]
    for op_id, needles in case.rejects:
        reasons = [r.describe() for r in rejected if r.id == op_id]
        assert reasons, f"no rejection for op {op_id}: {[r.describe() for r in rejected]}"
        assert any(all(n in text for n in needles) for text in reasons), reasons
    assert [r.id for r in changes.applied()] == case.applied
    assert snapshot(tmp_path) == expected_after(before, case.disk)


BYTE_CASES: list[tuple[str, bytes, list[str], list[int], dict[str, bytes | None]]] = [
    (
        "invalid-utf8-bytes-mid",
        b'{"op":"write","id":1,"path":"ok.txt","content":"ok\\n"}\n'
        b'{"op":"write","id":2,"path":"bad.txt","content":"\xff\xfe"}\n'
        b'{"op":"write","id":3,"path":"c.txt","content":"c"}\n',
        ["line 2", "invalid UTF-8 at byte 49"],
        [1, 3],
        {"ok.txt": OK, "c.txt": b"c"},
    ),
    (
        "invalid-utf8-overlong",
        b'{"op":"write","id":1,"path":"\xc0\xaf.txt","content":"x"}\n',
        ["line 1", "invalid UTF-8"],
        [],
        {},
    ),
    (
        "nul-byte-raw",
        b'{"op":"write","id":1,"path":"n.txt","content":"a\x00b"}\n',
        ["line 1", "not valid JSON"],
        [],
        {},
    ),
]


@pytest.mark.parametrize(
    ("stream", "needles", "applied", "disk"),
    [c[1:] for c in BYTE_CASES],
    ids=[c[0] for c in BYTE_CASES],
)
def test_hostile_bytes(
    tmp_path: Path,
    stream: bytes,
    needles: list[str],
    applied: list[int],
    disk: dict[str, bytes | None],
) -> None:
    root, _outside = make_repo(tmp_path)
    ws = GitWorkspace(root)
    before = snapshot(tmp_path)
    changes = apply_stream(ws, stream)
    rejected = [r.describe() for r in changes.rejected()]
    assert len(rejected) == 1 and all(n in rejected[0] for n in needles), rejected
    assert [r.id for r in changes.applied()] == applied
    assert snapshot(tmp_path) == expected_after(before, disk)


# -- run specs -------------------------------------------------------------------------------
def _phase(pid: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "title": f"Phase {pid}", **extra}


SPEC_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "cycle",
        {
            "goal": "g",
            "phases": [
                _phase("a", depends_on=["c"]),
                _phase("b", depends_on=["a"]),
                _phase("c", depends_on=["b"]),
            ],
        },
        ["depends_on: dependency cycle a -> c -> b -> a"],
    ),
    (
        "self-dependency",
        {"goal": "g", "phases": [_phase("a", depends_on=["a"])]},
        ["phases[0].depends_on[0]: phase 'a' depends on itself"],
    ),
    (
        "duplicate-ids",
        {"goal": "g", "phases": [_phase("a"), _phase("b"), _phase("a")]},
        ["phases[2].id: duplicate phase id 'a' (first at phases[0])"],
    ),
    (
        "unknown-dependency",
        {"goal": "g", "phases": [_phase("a", depends_on=["nope"])]},
        ["phases[0].depends_on[0]: unknown phase 'nope'"],
    ),
    (
        "unknown-keys",
        {
            "goal": "g",
            "colour": "red",
            "phases": [_phase("a", priority=1, deliverables=[{"path": "a.py", "owner": "x"}])],
        },
        [
            "colour: unknown key",
            "phases[0].priority: unknown key",
            "phases[0].deliverables[0].owner: unknown key",
        ],
    ),
    (
        "absolute-deliverable",
        {"goal": "g", "phases": [_phase("a", deliverables=[{"path": "/etc/passwd"}])]},
        ["phases[0].deliverables[0].path: path '/etc/passwd' is absolute"],
    ),
    (
        "dotdot-deliverable",
        {"goal": "g", "phases": [_phase("a", deliverables=[{"path": "src/../../x.py"}])]},
        ["phases[0].deliverables[0].path: path 'src/../../x.py' contains '..'"],
    ),
    (
        "git-deliverable",
        {"goal": "g", "phases": [_phase("a", deliverables=[{"path": ".git/hooks/pre-push"}])]},
        ["phases[0].deliverables[0].path: path '.git/hooks/pre-push' is inside .git/"],
    ),
    (
        "git-alias-deliverable",
        {"goal": "g", "phases": [_phase("a", deliverables=[{"path": "sub/.git./config"}])]},
        ["phases[0].deliverables[0].path: path 'sub/.git./config' is inside .git/"],
    ),
    (
        "folder-deliverable",
        {"goal": "g", "phases": [_phase("a", deliverables=[{"path": "newdir/"}])]},
        ["phases[0].deliverables[0].path: path 'newdir/' names a folder"],
    ),
    (
        "escaping-validation-tests",
        {"goal": "g", "phases": [_phase("a", validation_tests=["../x.py", "/etc/passwd"])]},
        [
            "phases[0].validation_tests[0]: path '../x.py' contains '..'",
            "phases[0].validation_tests[1]: path '/etc/passwd' is absolute",
        ],
    ),
    ("no-phases", {"goal": "g", "phases": []}, ["phases: a run needs at least one phase"]),
    (
        "bad-phase-id-and-missing-fields",
        {"phases": [{"id": "Bad Id"}]},
        [
            "goal: required field is missing",
            "phases[0].id: String should match pattern",
            "phases[0].title: required field is missing",
        ],
    ),
    (
        "everything-at-once",
        {
            "goal": "g",
            "extra": True,
            "phases": [
                _phase("a", depends_on=["b"]),
                _phase("b", depends_on=["a", "ghost"], deliverables=[{"path": "../out.py"}]),
                _phase("a", deliverables=[{"path": "/abs.py"}]),
            ],
        },
        [
            "extra: unknown key",
            "phases[2].id: duplicate phase id 'a'",
            "phases[1].depends_on[1]: unknown phase 'ghost'",
            "dependency cycle a -> b -> a",
            "phases[1].deliverables[0].path: path '../out.py' contains '..'",
            "phases[2].deliverables[0].path: path '/abs.py' is absolute",
        ],
    ),
]


@pytest.mark.parametrize(
    ("data", "problems"), [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES]
)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_hostile_spec(tmp_path: Path, data: dict[str, Any], problems: list[str], fmt: str) -> None:
    import yaml

    path = tmp_path / f"spec.{fmt}"
    path.write_text(json.dumps(data) if fmt == "json" else yaml.safe_dump(data), encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message
    for expected in problems:
        assert any(expected in p for p in info.value.problems), (expected, info.value.problems)
    assert len(info.value.problems) == len(problems), info.value.problems
    assert snapshot(tmp_path) == before
