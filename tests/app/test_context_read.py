"""How the app reads the repo for the context engine (through the Workspace port), and what a
phase's focus is."""

from __future__ import annotations

import os
from pathlib import Path

from autopack.adapters.fakes import MemoryWorkspace
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.package_data import lookup
from autopack.app.context import RunContext, committed_paths, focus_of, read_repo
from autopack.core.context.budget import ContextSettings
from autopack.core.context.scan import ScanCache, blob_sha
from autopack.core.spec import parse_spec
from autopack.core.state import PhaseRecord, PhaseStatus, RunState
from support.pyrepos import commit_all, make_repo


def test_read_repo_takes_python_and_instruction_files_and_skips_what_it_cannot_show(
    tmp_path: Path,
) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "pkg/mod.py": "X = 1\n",
            "pkg/AGENTS.md": "Be careful.\n",
            "notes.txt": "not read\n",
        },
    )
    (tmp_path / "r" / "pkg" / "blob.py").write_bytes(b"\x00\x01binary")
    os.symlink("mod.py", tmp_path / "r" / "pkg" / "link.py")
    commit_all(repo)
    files = read_repo(GitWorkspace(tmp_path / "r"))
    assert "notes.txt" in files.paths and "pkg/link.py" in files.paths
    assert sorted(files.texts) == ["pkg/AGENTS.md", "pkg/mod.py"]  # no binary, no symlink
    assert files.shas["pkg/mod.py"] == blob_sha(b"X = 1\n")
    assert repo.git.rev_parse("HEAD:pkg/mod.py") == files.shas["pkg/mod.py"]  # git's blob SHA


SPEC = {
    "goal": "g",
    "phases": [
        {"id": "a", "title": "A", "deliverables": [{"path": "pkg/new.py", "action": "create"}]},
        {
            "id": "b",
            "title": "B uses `helper`",
            "depends_on": ["a"],
            "deliverables": [{"path": "pkg/mod.py"}, {"path": "pkg/old.py", "action": "rename",
                                                       "old_path": "pkg/was.py"}],
        },
    ],
}  # fmt: skip


def test_focus_and_committed_paths() -> None:
    spec = parse_spec(SPEC)
    focus = focus_of(spec.phase("b"), ("pkg/new.py",))
    assert focus.deliverables == (("pkg/mod.py", "modify"), ("pkg/was.py", "rename"))
    assert "B uses `helper`" in focus.text and focus.earlier == ("pkg/new.py",)
    state = RunState(run_id="r", branch="autopack/r", goal="g")
    state.phases = [PhaseRecord(id="a", title="A"), PhaseRecord(id="b", title="B")]
    state.phases[0].changed_paths = ["pkg/new.py", "pkg/mod.py"]
    state.phases[0].move(PhaseStatus.building)
    assert committed_paths(state) == ()  # not committed (yet)
    state.phases[0].move(PhaseStatus.applying)
    state.phases[0].move(PhaseStatus.committed)
    assert committed_paths(state) == ("pkg/mod.py", "pkg/new.py")


def test_the_context_is_deterministic_and_scans_each_blob_once() -> None:
    files = {
        "pkg/__init__.py": b"",
        "pkg/mod.py": b"from pkg.util import helper\nVALUE = helper()\n",
        "pkg/util.py": b"def helper() -> int:\n    return 1\n",
        "pkg/was.py": b"OLD = 1\n",
        "AGENTS.md": b"Keep it simple.\n",
    }
    spec = parse_spec(SPEC)
    cache = ScanCache()
    info = lookup("claude-sonnet-5-5")

    def build() -> str:
        ctx = RunContext(
            MemoryWorkspace(files), spec, info, ContextSettings(), lambda p: None, cache
        )
        return ctx.first_request("g", spec.phase("b"), protected=[], output_format=None).printed

    first = build()
    misses = cache.misses
    assert build() == first
    assert cache.misses == misses and cache.hits >= 4  # the second build scanned nothing again
    assert "Keep it simple." in first and "def helper() -> int" in first
