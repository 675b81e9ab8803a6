"""Red team: `autopack demo --dir PATH` where PATH is a file, or lies under a file, dies with a
FileExistsError / NotADirectoryError traceback (commands/demo.py: `root.mkdir(...)` is outside any
error handling) instead of the clear error a taken folder gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.cli import main


@pytest.mark.parametrize("sub", ["", "inside"])
def test_demo_dir_that_is_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sub: str
) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("mine\n", encoding="utf-8")
    target = afile / sub if sub else afile
    assert main(["demo", "--dir", str(target)]) == 1
    assert "autopack: error:" in capsys.readouterr().err
    assert afile.read_text(encoding="utf-8") == "mine\n"
