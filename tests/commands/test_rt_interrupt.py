"""Red team: Ctrl-C (SIGINT) during a phase's gates. The Action settles the phase it cut short
(action/cancel.py: its files are put back); the local CLI only prints "interrupted" and exits 130,
leaving the phase's written files in the checkout, so the next `autopack run` refuses the tree
("uncommitted changes") and, once the user restores it, fails the phase on "an untracked file of
yours" that Autopack itself wrote."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import git
import yaml

from autopack.cli import main

SPEC = {"goal": "Greet", "phases": [{"id": "a", "title": "Add a"}]}


def record(ops: list[dict[str, Any]]) -> str:
    text = "".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(ops, 1))
    return json.dumps({"phase": "a", "text": text, "usage": {"output_tokens": 50}}) + "\n"


def phase_ops(test_body: str) -> list[dict[str, Any]]:
    return [
        {"op": "write", "path": "tests/test_new.py", "content": test_body},
        {"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'hello'"},
        {"op": "done"},
    ]


def test_ctrl_c_during_the_gates_puts_the_phase_files_back(git_repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "tests-started"
    slow = (
        "import pathlib\nimport time\n\n\ndef test_slow():\n"
        f"    pathlib.Path({str(marker)!r}).touch()\n    time.sleep(120)\n"
    )
    spec = tmp_path / "feature.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(record(phase_ops(slow)), encoding="utf-8")
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("autopack")
    args = ["run", "--repo", str(git_repo), "--spec", str(spec), "--out", str(out)]
    args += ["--replay", str(transcript), "--no-plugin-autoload"]
    proc = subprocess.Popen(
        [str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert marker.exists(), "the phase's test never started"
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    repo = git.Repo(git_repo)
    # Nothing half-done may stay in the user's checkout.
    assert repo.git.status("--porcelain", "--untracked-files=all") == "", err

    # A re-run builds the phase again (as the Action's re-run after a cancel does).
    transcript.write_text(
        record(phase_ops("def test_fast():\n    assert True\n")), encoding="utf-8"
    )
    assert main([*args, "--no-tests"]) == 0
