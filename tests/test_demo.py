from __future__ import annotations

from pathlib import Path

import git

from autopack.cli import main


def test_demo_pushes_one_commit_per_phase(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--dir", str(tmp_path / "d")]) == 0
    origin = git.Repo(tmp_path / "d" / "origin.git")
    subjects = origin.git.log("--format=%s", "autopack/demo", "^main").splitlines()
    assert subjects == [
        "autopack(docs): Document the operations",
        "autopack(divide): Add div() built on mul()",
        "autopack(multiply): Add mul()",
    ]
    out = capsys.readouterr().out
    assert "Reports:" in out
    assert (tmp_path / "d" / "out" / "checks" / "multiply.json").exists()
