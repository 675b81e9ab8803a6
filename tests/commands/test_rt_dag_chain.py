"""Red team: a valid spec whose phases form a long dependency chain listed from the end makes
`autopack validate` (and run/plan) die with a RecursionError traceback: core/dag.find_cycle
recurses once per phase on the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopack.cli import main


def test_a_long_dependency_chain_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 1500  # each phase depends on the next one: a valid DAG
    phases = [
        {"id": f"p{i}", "title": "T", "depends_on": [f"p{i + 1}"] if i + 1 < n else []}
        for i in range(n)
    ]
    spec = tmp_path / "chain.json"
    spec.write_text(json.dumps({"goal": "g", "phases": phases}), encoding="utf-8")
    assert main(["validate", str(spec)]) == 0
    assert f"valid ({n} phase(s))" in capsys.readouterr().out
