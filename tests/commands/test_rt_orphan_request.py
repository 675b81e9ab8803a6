"""Red team: `autopack resume --spec OTHER` with a spec that no longer has the held phase keeps the
phase's pending request in state.json but not its phase record. `autopack approve`/`deny` of that
request then crash with a bare `KeyError` traceback (core/governance/decide.py calls
`state.phase(request.phase_id)`) instead of a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_governance_cli import OPS, SPEC, World, held_request_id

from autopack.cli import main


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_deciding_a_request_whose_phase_left_the_spec_is_a_clear_error(
    git_repo: Path, tmp_path: Path, capsys: Any, verb: str
) -> None:
    w = World(git_repo, tmp_path, SPEC, OPS)
    assert w.cli("run") == 1  # `config` held
    rid = held_request_id(w)
    smaller = tmp_path / "smaller.yaml"
    phases = [p for p in SPEC["phases"] if p["id"] == "indep"]
    smaller.write_text(yaml.safe_dump({**SPEC, "phases": phases}), encoding="utf-8")
    common = ["--out", str(w.out), "--repo", str(w.repo), "--no-tests"]
    main(["resume", "--spec", str(smaller), "--replay", str(w.transcript), *common])
    capsys.readouterr()

    code = main([verb, rid, "--by", "ana", "--out", str(w.out), "--repo", str(w.repo)])
    assert code == 1
    assert "autopack: error:" in capsys.readouterr().err
