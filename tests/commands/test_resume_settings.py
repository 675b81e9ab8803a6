"""`autopack resume` honours the gate flags it documents: `--repair-rounds` (it used to keep the
default of 1 whatever was given)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.adapters.governance_store import LocalGovernanceStore
from autopack.cli import main
from support.pyrepos import make_repo

CALC = "def add(a, b):\n    return a + b\n"
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def _ops(old: str, new: str, first_id: int = 1) -> str:
    ops: list[dict[str, Any]] = [
        {"op": "edit", "path": "src/calc.py", "old": old, "new": new, "id": first_id},
        {"op": "done", "id": first_id + 1},
    ]
    return "".join(json.dumps(o) + "\n" for o in ops)


def test_resume_honours_repair_rounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The phase breaks `test_add`; the resume's transcript has a repair turn that fixes it: with
    `--repair-rounds 0` it is never sent and the phase stays failed; with 1 it is."""
    repo = tmp_path / "repo"
    make_repo(repo, {"src/calc.py": CALC, "tests/test_calc.py": TESTS})
    spec = {"goal": "Tweak add", "phases": [{"id": "tweak", "title": "Tweak add",
            "deliverables": [{"path": "src/calc.py", "action": "modify"}]}]}  # fmt: skip
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    broken = {"phase": "tweak", "text": _ops("return a + b", "return a + b + 1")}
    fixed = {"phase": "tweak", "text": _ops("return a + b + 1", "return b + a", 3)}
    first, second = tmp_path / "run.jsonl", tmp_path / "resume.jsonl"
    first.write_text(json.dumps(broken) + "\n", encoding="utf-8")
    second.write_text(json.dumps(broken) + "\n" + json.dumps(fixed) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    common = [
        "--out",
        str(out),
        "--repo",
        str(repo),
        "--repair-rounds",
        "0",
        "--no-plugin-autoload",
    ]
    assert (
        main(["run", "--spec", str(spec_file), "--run-id", "r1", "--replay", str(first), *common])
        == 1
    )
    capsys.readouterr()
    assert main(["resume", "--replay", str(second), *common]) == 1
    assert "repair round" not in capsys.readouterr().err
    [phase] = LocalGovernanceStore(str(out)).load_state().phases
    assert phase.status.value == "failed" and "test_add" in phase.reason
    # The same resume with one repair round sends the fixing turn, and the phase is committed.
    assert main(["resume", "--replay", str(second), *common[:-3], "--repair-rounds", "1"]) == 0
    assert "repair round 1/1" in capsys.readouterr().err
