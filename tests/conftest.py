"""Shared fixtures: real git repos with a bare origin."""

from __future__ import annotations

from pathlib import Path

import git
import pytest


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A checkout with one commit on main and a bare `origin` holding main."""
    origin = tmp_path / "origin.git"
    git.Repo.init(origin, bare=True, initial_branch="main")
    work = tmp_path / "work"
    repo = git.Repo.init(work, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.invalid")
    (work / "README.md").write_text("# demo\n", encoding="utf-8")
    (work / "src").mkdir()
    (work / "src" / "app.py").write_text("def hello():\n    return 'hi'\n", encoding="utf-8")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "initial")
    repo.create_remote("origin", str(origin))
    repo.git.push("-q", "origin", "main")
    return work
