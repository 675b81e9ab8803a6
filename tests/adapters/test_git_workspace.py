"""GitWorkspace on real repos with a bare origin: branch, commits with trailers, diff/discard, push."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import git
import pytest

from autopack.adapters.git_workspace import GitWorkspace
from autopack.errors import PathPolicyError, WorkspaceError


def status(repo: Path) -> str:
    return str(git.Repo(repo).git.status("--porcelain", "--untracked-files=all"))


def test_prepare_branch_creates_it_from_head(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    head = ws.head_sha()
    assert ws.prepare_branch("autopack/r1") == head
    assert git.Repo(git_repo).active_branch.name == "autopack/r1"


def test_commit_phase_message_and_trailers(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    base = ws.prepare_branch("autopack/r1")
    ws.write_changes({"src/new.py": b"x = 1\n"})
    sha = ws.commit_phase("types", "Add types", ["src/new.py"], {"Autopack-Ops": "3"})
    commit = git.Repo(git_repo).commit(sha)
    assert commit.message.splitlines() == [
        "autopack(types): Add types",
        "",
        "Autopack-Phase: types",
        "Autopack-Ops: 3",
    ]
    assert commit.author.name == "autopack[bot]"
    assert list(commit.stats.files) == ["src/new.py"]
    assert ws.committed_phases(base) == {"types": sha}
    assert status(git_repo) == ""


def test_reprepare_finds_the_base_and_committed_phases(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    base = ws.prepare_branch("autopack/r1")
    ws.write_changes({"a.txt": b"a\n"})
    a = ws.commit_phase("a", "A", ["a.txt"], {})
    ws.write_changes({"b.txt": b"b\n"})
    b = ws.commit_phase("b", "B", ["b.txt"], {})
    git.Repo(git_repo).heads["main"].checkout()

    again = GitWorkspace(git_repo)
    assert again.prepare_branch("autopack/r1") == base
    assert again.committed_phases(base) == {"a": a, "b": b}
    assert again.head_sha() == b


def test_dirty_tree_is_refused(git_repo: Path) -> None:
    (git_repo / "README.md").write_text("changed\n", encoding="utf-8")
    ws = GitWorkspace(git_repo)
    with pytest.raises(WorkspaceError, match="uncommitted changes; commit or stash them"):
        ws.prepare_branch("autopack/r1")
    assert "autopack/r1" not in git.Repo(git_repo).heads


def test_not_a_repo_and_bare_repo(tmp_path: Path, git_repo: Path) -> None:
    with pytest.raises(WorkspaceError, match="is not a git repository"):
        GitWorkspace(tmp_path / "nowhere")
    with pytest.raises(WorkspaceError, match="bare repository"):
        GitWorkspace(git_repo.parent / "origin.git")


def test_repo_without_commits(tmp_path: Path) -> None:
    git.Repo.init(tmp_path / "empty")
    with pytest.raises(WorkspaceError, match="has no commits yet"):
        GitWorkspace(tmp_path / "empty").prepare_branch("autopack/x")


def test_diff_then_discard_leaves_the_tree_clean(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    changes: dict[str, bytes | None] = {
        "README.md": None,
        "src/app.py": b"def hello():\n    return 'hello'\n",
        "pkg/deep/new.py": b"NEW = 1\n",
    }
    ws.write_changes(changes)
    paths = sorted(changes)
    patch = ws.diff(paths)
    assert "deleted file mode" in patch and "-# demo" in patch
    assert "+    return 'hello'" in patch
    assert "new file mode" in patch and "+NEW = 1" in patch
    assert git.Repo(git_repo).git.diff("--cached") == ""  # diff leaves the index alone

    ws.discard_changes(paths)
    assert status(git_repo) == ""
    assert (git_repo / "README.md").read_text(encoding="utf-8") == "# demo\n"
    assert not (git_repo / "pkg").exists()  # no empty folders left behind
    # The patch applies back on the clean tree.
    (git_repo.parent / "p.patch").write_text(patch, encoding="utf-8")
    git.Repo(git_repo).git.apply("--check", str(git_repo.parent / "p.patch"))


def test_read_refuses_symlinks_and_directories(git_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    os.symlink(outside, git_repo / "link.txt")
    ws = GitWorkspace(git_repo)
    assert ws.read("missing.txt") is None
    assert ws.read("README.md") == b"# demo\n"
    with pytest.raises(PathPolicyError, match=r"'link\.txt' is a symlink"):
        ws.read("link.txt")
    with pytest.raises(PathPolicyError, match="'src' is a directory"):
        ws.read("src")
    with pytest.raises(PathPolicyError, match=r"inside \.git/"):
        ws.read(".git/config")


def test_list_files_is_the_tracked_files(git_repo: Path) -> None:
    (git_repo / "untracked.txt").write_text("u", encoding="utf-8")
    assert GitWorkspace(git_repo).list_files() == ["README.md", "src/app.py"]


def test_push_to_the_bare_origin(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    ws.write_changes({"a.txt": b"a\n"})
    sha = ws.commit_phase("a", "A", ["a.txt"], {})
    ws.push("autopack/r1")
    origin = git.Repo(git_repo.parent / "origin.git")
    assert origin.commit("autopack/r1").hexsha == sha


def test_push_failure_is_a_workspace_error(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    with pytest.raises(WorkspaceError, match="push of autopack/r1 to nowhere failed"):
        ws.push("autopack/r1", remote="nowhere")


def test_discard_restores_tracked_files_with_non_ascii_names(git_repo: Path) -> None:
    repo = git.Repo(git_repo)
    (git_repo / "café.py").write_text("A = 1\n", encoding="utf-8")
    repo.git.add("café.py")
    repo.git.commit("-q", "-m", "add café")
    ws = GitWorkspace(git_repo)
    assert "café.py" in ws.list_files()
    ws.write_changes({"café.py": b"A = 2\n"})
    ws.discard_changes(["café.py"])  # restored from HEAD, not deleted as if it were new
    assert (git_repo / "café.py").read_text(encoding="utf-8") == "A = 1\n"
    assert status(git_repo) == ""


def test_a_failed_write_puts_back_what_the_call_already_wrote(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full on the third file: the first two are restored, nothing half-written stays."""
    real_replace = os.replace

    def replace(src: str, dst: str | Path) -> None:
        if str(dst).endswith("c.txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    ws = GitWorkspace(git_repo)
    changes: dict[str, bytes | None] = {"README.md": b"new\n", "b.txt": b"b\n", "c.txt": b"c\n"}
    with pytest.raises(WorkspaceError, match=r"cannot write c\.txt: No space left on device"):
        ws.write_changes(changes)
    assert (git_repo / "README.md").read_text(encoding="utf-8") == "# demo\n"
    assert not (git_repo / "b.txt").exists() and not (git_repo / "c.txt").exists()
    assert status(git_repo) == ""


def test_a_multi_line_title_becomes_one_subject_line(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    base = ws.prepare_branch("autopack/r1")
    ws.write_changes({"a.txt": b"a\n"})
    sha = ws.commit_phase("a", "Title\n\nAutopack-Phase: other", ["a.txt"], {})
    subject = git.Repo(git_repo).commit(sha).message.splitlines()[0]
    assert subject == "autopack(a): Title Autopack-Phase: other"
    assert ws.committed_phases(base) == {"a": sha}


def test_fork_point_without_other_branches_uses_the_trailers(tmp_path: Path) -> None:
    repo = git.Repo.init(tmp_path / "solo", initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.invalid")
    (tmp_path / "solo" / "f.txt").write_text("f\n", encoding="utf-8")
    repo.git.add("f.txt")
    repo.git.commit("-q", "-m", "init")
    ws = GitWorkspace(tmp_path / "solo")
    base = ws.prepare_branch("autopack/solo")
    ws.write_changes({"a.txt": b"a\n"})
    sha = ws.commit_phase("a", "A", ["a.txt"], {})
    repo.git.branch("-D", "main")  # the run's branch is the only one left
    again = GitWorkspace(tmp_path / "solo")
    assert again.prepare_branch("autopack/solo") == base
    assert again.committed_phases(base) == {"a": sha}


def _commit_folder_symlinks(root: Path) -> None:
    """Commit `.github/workflows/ci.yml` and folder symlinks to it and to src/."""
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    os.symlink(".github/workflows", root / "wfl")
    os.symlink(".github", root / "ghl")
    os.symlink("src", root / "srclink")
    repo = git.Repo(root)
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "folder symlinks")


@pytest.mark.parametrize(
    ("path", "link", "target"),
    [
        ("wfl/ci.yml", "wfl", ".github/workflows"),
        ("ghl/workflows/ci.yml", "ghl", ".github"),
        ("srclink/app.py", "srclink", "src"),
    ],
)
def test_no_read_or_write_through_a_committed_folder_symlink(
    git_repo: Path, path: str, link: str, target: str
) -> None:
    _commit_folder_symlinks(git_repo)
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    needle = rf"path '{path}' goes through the symlink '{link}' \(to '{target}'"
    with pytest.raises(PathPolicyError, match=needle):
        ws.read(path)
    with pytest.raises(PathPolicyError, match=needle):
        ws.write_changes({"ok.txt": b"ok\n", path: b"pwned\n"})
    with pytest.raises(PathPolicyError, match=needle):
        ws.write_changes({path: None})
    with pytest.raises(PathPolicyError, match=f"symlink '{link}'"):
        ws.write_changes({f"{link}/new.yml": b"on: push\n"})
    ci = git_repo / ".github" / "workflows" / "ci.yml"
    assert ci.read_text(encoding="utf-8") == "on: push\n"
    assert (git_repo / "src" / "app.py").read_text(encoding="utf-8").startswith("def hello")
    assert status(git_repo) == ""


def test_write_changes_never_deletes_or_overwrites_an_untracked_file(git_repo: Path) -> None:
    (git_repo / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (git_repo / "scratch.txt").write_text("scratch\n", encoding="utf-8")
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")  # untracked files do not make the tree dirty
    assert ws.is_untracked("notes.txt") and not ws.is_untracked("README.md")
    assert not ws.is_untracked("missing.txt")
    with pytest.raises(PathPolicyError, match=r"'notes\.txt' is an untracked file of yours"):
        ws.write_changes({"new.txt": b"1\n", "notes.txt": b"model\n"})
    with pytest.raises(PathPolicyError, match=r"'scratch\.txt' is an untracked file of yours"):
        ws.write_changes({"scratch.txt": None})
    assert (git_repo / "notes.txt").read_text(encoding="utf-8") == "my notes\n"
    assert (git_repo / "scratch.txt").read_text(encoding="utf-8") == "scratch\n"
    assert not (git_repo / "new.txt").exists()  # checked before anything is written


def test_files_the_run_created_stay_its_own_until_discarded(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    ws.write_changes({"new.txt": b"1\n"})
    assert not ws.is_untracked("new.txt")  # created by the run: a repair round may change it
    ws.write_changes({"new.txt": b"2\n"})
    ws.discard_changes(["new.txt"])
    assert not (git_repo / "new.txt").exists()
    (git_repo / "new.txt").write_text("mine now\n", encoding="utf-8")
    assert ws.is_untracked("new.txt")


def test_discard_never_removes_an_untracked_file_it_did_not_write(git_repo: Path) -> None:
    (git_repo / "notes.txt").write_text("my notes\n", encoding="utf-8")
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    ws.discard_changes(["notes.txt"])
    assert (git_repo / "notes.txt").read_text(encoding="utf-8") == "my notes\n"


def test_commit_of_a_file_created_then_deleted_in_the_phase(git_repo: Path) -> None:
    """A repair round deleting a file the phase created: no 'pathspec did not match'."""
    ws = GitWorkspace(git_repo)
    ws.prepare_branch("autopack/r1")
    ws.write_changes({"tmp.txt": b"t\n", "a.txt": b"a\n"})
    ws.write_changes({"tmp.txt": None})
    sha = ws.commit_phase("a", "A", ["a.txt", "tmp.txt"], {})
    assert list(git.Repo(git_repo).commit(sha).stats.files) == ["a.txt"]
    assert status(git_repo) == ""


def test_paths_are_literal_never_patterns_and_ignored_files_commit(git_repo: Path) -> None:
    """A phase writing `a[1].txt` commits that file only (not the user's untracked `a1.txt`, which
    the pattern would match), and a file the ops wrote under a gitignored folder is committed
    instead of aborting the commit."""
    (git_repo / ".gitignore").write_text("dist/\n", encoding="utf-8")
    repo = git.Repo(git_repo)
    repo.git.add(".gitignore")
    repo.git.commit("-q", "-m", "ignore dist")
    (git_repo / "a1.txt").write_text("mine\n", encoding="utf-8")
    ws = GitWorkspace(git_repo)
    ws.write_changes({"a[1].txt": b"model\n", "dist/out.txt": b"built\n"})
    assert "+model" in ws.diff(["a[1].txt"]) and "a1.txt" not in ws.diff(["a[1].txt"])
    sha = ws.commit_phase("p", "P", ["a[1].txt", "dist/out.txt"], {})
    committed = repo.git.show("--name-only", "--format=", sha).split()
    assert sorted(committed) == ["a[1].txt", "dist/out.txt"]
    assert "a1.txt" in repo.git.status("--porcelain")  # still the user's, untracked
    ws.write_changes({"a[1].txt": b"again\n"})
    ws.discard_changes(["a[1].txt"])
    assert (git_repo / "a[1].txt").read_bytes() == b"model\n"
    assert (git_repo / "a1.txt").read_text(encoding="utf-8") == "mine\n"


def test_remove_new_files_deletes_only_untracked_files_it_is_given(git_repo: Path) -> None:
    ws = GitWorkspace(git_repo)
    (git_repo / "gen" / "deep").mkdir(parents=True)
    (git_repo / "gen" / "deep" / "leak.txt").write_text("leak\n", encoding="utf-8")
    (git_repo / "mine.txt").write_text("mine\n", encoding="utf-8")
    ws.remove_new_files(["gen/deep/leak.txt", "README.md"])  # README.md is tracked: kept
    assert not (git_repo / "gen").exists()  # the folders it left empty go too
    assert (git_repo / "README.md").exists() and (git_repo / "mine.txt").exists()


def test_the_workspace_never_writes_workflows_whatever_asks(git_repo: Path) -> None:
    """The last line of defence: even a caller holding an 'approved' change cannot write
    .github/workflows/ (GITHUB_TOKEN could not push it, and no approval may allow it)."""
    ws = GitWorkspace(git_repo)
    with pytest.raises(PathPolicyError, match=r"never writes \.git/ or \.github/workflows/"):
        ws.write_changes({"ok.txt": b"x\n", ".github/workflows/evil.yml": b"on: push\n"})
    assert not (git_repo / "ok.txt").exists()  # nothing of the call was written
    assert not (git_repo / ".github").exists()
