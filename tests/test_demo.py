from __future__ import annotations

import json
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
    printed = capsys.readouterr()
    out = printed.out
    assert "Reports:" in out
    # One real continuation: `divide` is cut off by max_tokens mid-line and continued.
    assert "~ request 1 (build): max_tokens after 1 op(s)" in printed.err
    assert "~ request 2 (continue): end_turn" in printed.err
    assert "| `divide` | 2 | 1 | 0 |" in out
    telemetry = json.loads((tmp_path / "d" / "out" / "telemetry.json").read_text())
    assert telemetry["totals"]["continuations"] == 1 and telemetry["totals"]["requests"] == 4
    assert (tmp_path / "d" / "out" / "checks" / "multiply.json").exists()
