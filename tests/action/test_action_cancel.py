"""A cancelled Action run (SIGTERM, as "Cancel workflow" and the job timeout send): a real
`autopack action` process is stopped mid-phase and leaves a final word, then a re-run resumes.

The process talks to the local GitHub and Messages API servers of this test process; the model's
reply for the phase to cancel stalls mid-stream (messages_server's `stall_after`), or the phase's
own test sleeps in the test gate, so the signal arrives while the phase is under way."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from action_world import API_KEY, TOKEN, World, make_world, parse_outputs, phase_reply, spec_body

from autopack.demo import scenario
from support.messages_server import Recorded, Reply

PHASE = re.compile(r"# Phase `([a-z0-9-]+)`")
EXIT_WITHIN_S = 10.0


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


class Spawned:
    """`autopack action` in a subprocess, with the environment GitHub sets for a labelled issue."""

    def __init__(self, world: World, number: int, **inputs: str) -> None:
        world.state.add_label(number, "autopack", "maint")
        self.work = world.checkout()
        root, n = world.root, world.runs
        event = root / f"event{n}.json"
        payload = {
            "action": "labeled",
            "label": {"name": "autopack"},
            "issue": {"number": number},
            "sender": {"login": "maint", "type": "User"},
        }
        event.write_text(json.dumps(payload), encoding="utf-8")
        self.output, self.summary, self.log = (root / f"{k}{n}" for k in ("out", "sum", "log"))
        self.output.touch()
        self.summary.touch()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("INPUT_", "GITHUB_", "ANTHROPIC_"))
        }
        env.update(
            {
                "GITHUB_EVENT_NAME": "issues",
                "GITHUB_EVENT_PATH": str(event),
                "GITHUB_REPOSITORY": "acme/calc",
                "GITHUB_API_URL": world.gh.base_url,
                "GITHUB_SERVER_URL": world.gh.base,
                "GITHUB_WORKSPACE": str(self.work),
                "GITHUB_OUTPUT": str(self.output),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "RUNNER_TEMP": str(root / f"temp{n}"),
                "INPUT_GITHUB_TOKEN": TOKEN,
                "INPUT_ANTHROPIC_API_KEY": API_KEY,
                "INPUT_ANTHROPIC_BASE_URL": world.model.base_url,
            }
        )
        env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
        with self.log.open("w", encoding="utf-8") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autopack.cli", "action", "--no-throttle"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until(self, what: str, ready: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"autopack action ended before {what}:\n{self.text()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"no {what} within {timeout:g} s:\n{self.text()}")
            time.sleep(0.05)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds until the process ended)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=EXIT_WITHIN_S + 20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"autopack action did not end after SIGTERM:\n{self.text()}")
        return code, time.monotonic() - started

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def outputs(self) -> dict[str, str]:
        return parse_outputs(self.output.read_text(encoding="utf-8"))


def keyed(world: World, number: int, key: str) -> list[dict[str, Any]]:
    return [c for c in world.state.comments_on(number) if f"<!-- autopack:{key} -->" in c["body"]]


def phase_of(rec: Recorded) -> str | None:
    match = PHASE.search(rec.message_text(0))
    return match.group(1) if match else None


def test_sigterm_while_the_model_streams_a_phase_then_a_rerun_resumes(world: World) -> None:
    """multiply commits; the model stalls in the middle of docs; SIGTERM: the process ends within
    10 s with 143, the tracking comment says cancelled with the cost so far, only multiply is on the
    branch. A re-run builds docs and finishes with one PR, one tracking and one summary comment."""
    stalled: list[str] = []

    def slow_docs(rec: Recorded) -> Reply:
        phase = phase_of(rec)
        assert phase is not None
        reply = phase_reply(phase)
        if phase == "docs" and not stalled:
            stalled.append(phase)
            return Reply(text=reply.text, chunk_chars=10, stall_after=40, stall_s=120)
        return reply

    world.model.responder = slow_docs
    n = world.state.create_issue("Mul and docs", spec_body("multiply", "docs"))
    run = Spawned(world, n, test_command="none")
    run.wait_until("the docs request", lambda: bool(stalled))
    run.wait_until("docs to be under way", lambda: "docs: building" in run.text())
    time.sleep(0.5)  # the first characters of the stream have arrived; the rest never will
    code, took = run.terminate()
    world.model.stopping.set()  # the stalled reply ends (its client is gone)

    assert code == 143, run.text()
    assert took < EXIT_WITHIN_S, f"{took:.1f} s"
    outputs = run.outputs()
    assert outputs["conclusion"] == "cancelled" and float(outputs["cost_usd"]) > 0
    assert world.branch_log("autopack/issue-1") == ["autopack(multiply): Add mul()"]
    [tracking] = keyed(world, n, "tracking")
    body = tracking["body"]
    assert "conclusion: **cancelled**" in body
    assert f"Cost so far: **${float(outputs['cost_usd']):.4f}**" in body
    assert "`docs`" in body and "cancelled (SIGTERM)" in body
    assert "Autopack was cancelled (SIGTERM) during docs" in run.summary.read_text("utf-8")
    assert "::warning::Autopack was cancelled" in run.text()
    assert not (run.work / "docs" / "usage.md").exists()  # nothing of docs was written
    assert len(world.state.pulls()) == 1

    again = Spawned(world, n, test_command="none")  # the re-run: a new process, a new checkout
    assert again.proc.wait(timeout=120) == 0, again.text()
    assert again.outputs()["conclusion"] == "success", again.text()
    assert world.branch_log("autopack/issue-1") == [  # newest first
        f"autopack(docs): {_title('docs')}",
        "autopack(multiply): Add mul()",
    ]
    [pr] = world.state.pulls()
    assert len(keyed(world, n, "tracking")) == 1
    assert "conclusion: **success**" in keyed(world, n, "tracking")[0]["body"]
    assert len(keyed(world, pr["number"], "summary")) == 1
    assert not keyed(world, n, "summary")
    # multiply was not built again; docs was built twice (cut off, then whole)
    assert [phase_of(r) for r in world.model.message_requests] == ["multiply", "docs", "docs"]


def _title(phase_id: str) -> str:
    return str(next(p for p in scenario.SPEC["phases"] if p["id"] == phase_id)["title"])


def test_sigterm_during_the_test_gate_stops_the_tests_and_puts_the_files_back(
    world: World, tmp_path: Path
) -> None:
    """The phase's own test sleeps; SIGTERM while the gate runs it: the test process is killed,
    the files the phase wrote are put back, nothing is committed, the exit is within 10 s."""
    pid_file = tmp_path / "gate-test.pid"
    slow_test = (
        "import os\nimport time\n\n\ndef test_slow():\n"
        f"    with open({str(pid_file)!r}, 'w') as fh:\n"
        "        fh.write(str(os.getpid()))\n"
        "    time.sleep(120)\n"
    )
    ops = [
        {"op": "write", "path": "tests/test_slow.py", "content": slow_test},
        {"op": "manifest", "files": [{"path": "tests/test_slow.py", "symbols": ["test_slow"]}]},
        {"op": "done", "summary": "A slow test."},
    ]
    world.model.responder = lambda rec: Reply(text=scenario.ndjson(ops))
    phase = {
        "id": "slow",
        "title": "A slow test",
        "deliverables": [{"path": "tests/test_slow.py", "action": "create"}],
        "validation_tests": ["tests/test_slow.py"],
    }
    spec = {"goal": "Slow", "model": "claude-sonnet-5-5", "phases": [phase]}
    body = "```autopack\n" + yaml.safe_dump(spec, sort_keys=False) + "```\n"
    n = world.state.create_issue("Slow", body)
    run = Spawned(world, n)
    run.wait_until(
        "the gate's test to start", lambda: pid_file.exists() and bool(pid_file.read_text()), 120
    )
    test_pid = int(pid_file.read_text())
    code, took = run.terminate()

    assert code == 143, run.text()
    assert took < EXIT_WITHIN_S, f"{took:.1f} s"
    assert _gone(test_pid), f"the gate's test process {test_pid} is still running"
    assert run.outputs()["conclusion"] == "cancelled"
    assert not (run.work / "tests" / "test_slow.py").exists()
    assert world.branch_log("autopack/issue-1") == []
    [tracking] = keyed(world, n, "tracking")
    assert "conclusion: **cancelled**" in tracking["body"]


def _gone(pid: int, within: float = 5.0) -> bool:
    """The process ended (or is a zombie waiting for a parent that no longer exists to reap it)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        except FileNotFoundError:
            return True
        if re.search(r"^State:\s+Z", status, re.M):
            return True
        time.sleep(0.1)
    return False
