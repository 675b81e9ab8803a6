"""Red team: the planner's file list was cut at the first 5,000 tracked paths (git's order), and
the planner's answer is checked against it: in a larger repo a plan modifying a file past the cut
(`src/...` after thousands of `docs/...`) was refused as "not in the repository", twice, and the
run failed, though the repo map had shown the planner that very file."""

from __future__ import annotations

from pathlib import Path

from autopack.adapters.git_workspace import GitWorkspace
from autopack.commands.run import repo_files
from support.pyrepos import make_repo


def test_the_planner_knows_every_tracked_file(tmp_path: Path) -> None:
    files: dict[str, str | None] = {f"docs/page{n:05}.md": "x\n" for n in range(5_001)}
    make_repo(tmp_path / "r", {**files, "src/app.py": "def f():\n    return 1\n"})
    known = {f.path: f.size for f in repo_files(GitWorkspace(tmp_path / "r"))}
    assert len(known) == 5_003 and known["src/app.py"] == 22
