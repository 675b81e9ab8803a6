"""Red team: `autopack context` on a repository with no commits yet ended in a GitPython
ValueError traceback ("Reference at 'refs/heads/main' does not exist"), where `autopack run` says
clearly that the repo has no commits."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from autopack.cli import main


def test_context_on_a_repo_without_commits_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git.Repo.init(tmp_path / "empty", initial_branch="main")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "goal: g\nphases:\n  - id: a\n    title: A\n    deliverables: [{path: a.py}]\n",
        encoding="utf-8",
    )
    assert main(["context", "--repo", str(tmp_path / "empty"), "--spec", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "autopack: error:" in err and "has no commits yet" in err
