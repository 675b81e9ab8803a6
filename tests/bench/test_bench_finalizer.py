"""`autopack bench finalizer` on a tiny generated repo with real pytest runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.bench.finalizer import BenchConfig, render_table, run_bench
from autopack.cli import main


def test_bench_counts_runs_per_phase_for_both_strategies(tmp_path: Path) -> None:
    config = BenchConfig(phases=2, files=2, tests_per_file=3, test_ms=0, fail_every=2)
    rows = run_bench(tmp_path / "repo", config)
    # ours: phase 1 = baseline + run; phase 2 = run + re-run of the one new failure
    assert [(r.ours.runs, r.ours.blocked) for r in rows] == [(2, False), (2, True)]
    # naive: baseline + run per phase, and a full re-run when something newly fails
    assert [(r.naive.runs, r.naive.blocked) for r in rows] == [(2, False), (3, True)]
    # 7 base tests, 3 added by phase 1, 4 by phase 2 (one failing): the full suite of 14 and the
    # one re-run test, against the baseline's 7 and the suite twice
    assert rows[1].ours.tests == 14 + 1
    assert rows[1].naive.tests == 7 + 14 + 14
    table = render_table(rows, config)
    assert "| **total** | | | 4 | 32 |" in table
    assert "ratio naive/ours: 1.25x test-suite runs" in table


def test_bench_finalizer_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "finalizer", "--phases", "1", "--files", "1", "--tests-per-file", "2"]
    assert main([*argv, "--test-ms", "0", "--fail-every", "0", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| p1 | no | pass | 2 | 9 |" in out and "ratio naive/ours: 1.00x test-suite runs" in out
