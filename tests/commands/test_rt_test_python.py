"""Red team: a `--test-python` that does not exist is found only after the model has built the
phase: the baseline fails ("the tests could not run at the base commit"), the phase is blocked and
a repair round asks the model to fix what no code change can fix, for every phase. A failing
`--setup-command` stops the run before any model call (README); a missing test interpreter should
too."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import A, B
from test_cli import files as files

from autopack.cli import main


def test_a_missing_test_python_stops_the_run_before_any_model_call(
    git_repo: Path, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files["transcript"].write_text(A + B, encoding="utf-8")
    missing = tmp_path / "no-such-python"
    args = [
        "run",
        "--repo",
        str(git_repo),
        "--spec",
        str(files["spec"]),
        "--out",
        str(files["out"]),
    ]
    code = main([*args, "--replay", str(files["transcript"]), "--test-python", str(missing)])
    err = capsys.readouterr().err
    assert code == 1
    assert "autopack: error:" in err and str(missing) in err
    assert "building" not in err  # no model request was made
