"""Red team: user mistakes in the bench commands' inputs end in tracebacks instead of
`autopack: error: ...` (the other bench commands, and `estimate`, report a missing or bad cases
file clearly): an empty cases file makes `bench policy` divide by zero and `bench context` take the
median of nothing; `bench gates --repo` on a folder that is not a git repository raises GitPython's
InvalidGitRepositoryError, and `--dir` on an existing folder FileExistsError."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.cli import main


@pytest.mark.parametrize("bench", ["policy", "context"])
def test_an_empty_cases_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bench: str
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("", encoding="utf-8")
    assert main(["bench", bench, "--cases", str(cases)]) == 1
    assert "autopack: error:" in capsys.readouterr().err


def test_bench_gates_on_a_folder_that_is_not_a_repo_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "gates", "--repo", str(tmp_path)]) == 1
    assert "not a git repository" in capsys.readouterr().err


def test_bench_gates_dir_that_exists_is_a_clear_error(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    assert main(["bench", "gates", "--repo", str(git_repo), "--dir", str(taken)]) == 1
    assert "autopack: error:" in capsys.readouterr().err
