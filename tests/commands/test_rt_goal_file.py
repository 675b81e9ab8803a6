"""Red team: `autopack run --goal-file FILE` with an empty or blank file. `--goal ""` is refused
("--goal is empty"), but commands/run.py:goal_text checks only --goal: an empty file gives goal ""
(falsy), so the run id falls back to `default_run_id(args.spec)` with spec None: a TypeError
traceback; a whitespace-only file goes on to plan a blank goal with the model (a paid request)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.cli import main


@pytest.mark.parametrize("text", ["", "  \n\n"])
def test_an_empty_goal_file_is_a_clear_error(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    goal = tmp_path / "issue.md"
    goal.write_text(text, encoding="utf-8")
    replay = tmp_path / "t.jsonl"
    replay.write_text("", encoding="utf-8")
    args = ["run", "--repo", str(git_repo), "--goal-file", str(goal), "--replay", str(replay)]
    assert main([*args, "--out", str(tmp_path / "out"), "--no-tests"]) == 1
    err = capsys.readouterr().err
    assert "autopack: error:" in err and "empty" in err
    assert "planning" not in err  # no model request for a blank goal
