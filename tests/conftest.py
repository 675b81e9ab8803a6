"""Shared fixtures: real git repos with a bare origin; Autopack's per-user cache in a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import git
import pytest


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$XDG_CACHE_HOME (where `autopack run` keeps baselines by default) is a fresh folder for
    each test; the package caches of pip and uv stay where they were, warm."""
    home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    monkeypatch.setenv("UV_CACHE_DIR", os.environ.get("UV_CACHE_DIR") or str(home_cache / "uv"))
    monkeypatch.setenv("PIP_CACHE_DIR", os.environ.get("PIP_CACHE_DIR") or str(home_cache / "pip"))
    folder = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


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
