"""`autopack bench gates` on a small real git history: commits replayed as phases through the real
executor, cold then warm baseline cache."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from autopack.bench.gates import (
    GatesBenchConfig,
    commit_ops,
    render_gates_table,
    run_gates_bench,
)
from autopack.cli import main
from support.pyrepos import commit_all, make_repo, write_files


def history(root: Path) -> None:
    repo = make_repo(
        root,
        {
            "src/m.py": "def f():\n    return 1\n",
            "tests/test_m.py": ("from m import f\n\n\ndef test_f():\n    assert f() == 1\n"),
        },
    )
    write_files(root, {"src/n.py": "def g():\n    return 2\n", ".github/workflows/ci.yml": "x\n"})
    commit_all(repo, "add n")
    write_files(
        root, {"tests/test_n.py": "from n import g\n\n\ndef test_g():\n    assert g() == 2\n"}
    )
    commit_all(repo, "test n")


def test_commits_become_phases_cold_then_warm(tmp_path: Path) -> None:
    source = tmp_path / "source"
    history(source)
    ops = commit_ops(git.Repo(source), git.Repo(source).rev_parse("HEAD~1").hexsha)
    assert [(o["op"], o.get("path")) for o in ops] == [("write", "src/n.py"), ("done", None)]
    config = GatesBenchConfig(commits=2, plugin_autoload=False)
    runs = run_gates_bench(source, tmp_path / "work", config)
    cold, warm = runs
    assert [(p.status, p.suite_runs, p.baseline) for p in cold.phases] == [
        ("committed", 2, "miss"),  # the base commit's baseline, then the phase's run
        ("committed", 1, "hit"),  # the first phase's gated run is its baseline
    ]
    assert [(p.suite_runs, p.baseline) for p in warm.phases] == [(1, "hit"), (1, "hit")]
    assert [p.tests for p in cold.phases] == [1 + 1, 2]
    table = render_gates_table(runs, source, config)
    assert "| cold | c1 | add n | committed | 2 | 2 |" in table
    assert "cold: 3 suite run(s) for 2 phase(s) (1.50 per phase)" in table
    assert "warm: 2 suite run(s) for 2 phase(s) (1.00 per phase)" in table


def test_bench_gates_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source"
    history(source)
    argv = ["bench", "gates", "--repo", str(source), "--commits", "1", "--no-plugin-autoload"]
    assert main([*argv, "--dir", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert "| warm | c1 | test n | committed | 1 | 2 |" in out
