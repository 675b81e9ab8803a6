"""Red team: `autopack resume` trusts that spec.json and state.json in --out belong to the same
run. spec.json is written when a run starts, state.json only when it ends normally, so a second run
into the same --out (the default `autopack-out` is shared) that stops on an error leaves the new
spec beside the old state. `resume` then builds the new spec's phases on the OLD run's branch and
reports success, dropping the old run's held phase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_governance_cli import OPS, SPEC, World

from autopack.cli import main

OTHER = {"goal": "Another goal", "phases": [{"id": "zeta", "title": "Zeta"}]}


def test_resume_refuses_a_spec_json_of_another_run(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = World(git_repo, tmp_path, SPEC, OPS)
    assert w.cli("run") == 1  # run g1: `config` held, `indep` committed
    assert w.state().run_id == "g1"

    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(OTHER), encoding="utf-8")
    ops = [{"op": "write", "id": 1, "path": "zeta.txt", "content": "z\n"}, {"op": "done", "id": 2}]
    replay = tmp_path / "zeta.jsonl"
    text = "".join(json.dumps(o) + "\n" for o in ops)
    replay.write_text(json.dumps({"phase": "zeta", "text": text}) + "\n", encoding="utf-8")
    w.git.git.checkout("main")
    w.git.git.remote("set-url", "origin", str(tmp_path / "gone.git"))
    common = ["--out", str(w.out), "--repo", str(w.repo), "--no-tests", "--replay", str(replay)]
    kept = (w.out / "state.json").read_text(encoding="utf-8")
    assert main(["run", "--spec", str(other), "--push", *common]) == 1  # the push fails
    # A run that stops on an error now saves its state (test_rt_state_on_error); one killed
    # before its end (SIGKILL, a closed terminal's SIGHUP) still leaves the old state.json
    # beside its spec.json: put g1's back, as such a run would have left it.
    (w.out / "state.json").write_text(kept, encoding="utf-8")

    w.git.git.checkout("main")
    code = main(["resume", *common])
    # Run g1's branch must not get another spec's phase, and a held run is not a success.
    assert "autopack(zeta): Zeta" not in w.subjects()
    assert code != 0
    assert "of run other" in capsys.readouterr().err
