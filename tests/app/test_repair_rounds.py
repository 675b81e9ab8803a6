"""The executor's repair rounds with the real PhaseFinalizer: a real git repo, real pytest runs, a
replay model answering the repair turn in the same conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git

from autopack.adapters.baseline_cache import GitSnapshots, MemoryBaselineStore
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.pytest_runner import PytestRunner
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.baseline import BaselineTracker
from autopack.app.compose import build_executor
from autopack.app.finalizer import PhaseFinalizer
from autopack.core.build import ExecutorConfig
from autopack.core.spec import parse_spec
from autopack.core.state import PhaseStatus
from autopack.core.usage import Usage
from autopack.demo.scenario import ndjson
from support.pyrepos import make_repo

CALC = "def add(a, b):\n    return a + b\n"
BASE = {
    "src/calc.py": CALC,
    "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
}
SPEC = {
    "goal": "Add mul and pow",
    "phases": [
        {
            "id": "mul",
            "title": "Add mul",
            "deliverables": [
                {"path": "src/calc.py", "action": "modify"},
                {"path": "tests/test_mul.py", "action": "create"},
            ],
            "validation_tests": ["tests/test_mul.py"],
        },
        {"id": "pow", "title": "Add pow", "depends_on": ["mul"]},
        {"id": "after", "title": "Docs", "depends_on": ["pow"]},
    ],
}
MUL_TEST = "from calc import mul\n\n\ndef test_mul():\n    assert mul(3, 4) == 12\n"
WRONG = CALC + "\n\ndef mul(a, b):\n    return a + b\n"


def record(phase: str, ops: list[dict[str, Any]], first_id: int = 1) -> ReplayRecord:
    return ReplayRecord(text=ndjson(ops, first_id), phase=phase)


def run(tmp_path: Path, records: list[ReplayRecord], rounds: int = 1) -> tuple[Any, Any, Any]:
    root = tmp_path / "repo"
    make_repo(root, BASE)
    ws = GitWorkspace(root)
    snapshots = GitSnapshots(root)
    runner = PytestRunner(plugin_autoload=False)
    finalizer = PhaseFinalizer(
        ws.root,
        ws,
        lambda p: snapshots.read_at("HEAD", p),
        ws.head_sha,
        tracker=BaselineTracker(runner, MemoryBaselineStore()),
    )
    model = ReplayModelClient(records)
    config = ExecutorConfig(run_id="t", repair_rounds=rounds)
    forge = LocalForge(tmp_path / "out")
    state = build_executor(parse_spec(SPEC), ws, model, forge, config, finalizer=finalizer).run()
    return state, runner, model


MUL_FIRST = [
    {"op": "edit", "path": "src/calc.py", "old": CALC, "new": WRONG},
    {"op": "write", "path": "tests/test_mul.py", "content": MUL_TEST},
    {"op": "manifest", "files": [{"path": "src/calc.py", "symbols": ["mul"]}]},
    {"op": "done", "summary": "mul"},
]
MUL_FIX = [
    {
        "op": "edit",
        "path": "src/calc.py",
        "old": "def mul(a, b):\n    return a + b\n",
        "new": "def mul(a, b):\n    return a * b\n",
    },
    {"op": "done", "summary": "fixed mul"},
]
POW = [
    {"op": "write", "path": "src/power.py", "content": "def power(a, b):\n    return a**b\n"},
    {"op": "done", "summary": "pow"},
]
AFTER = [{"op": "write", "path": "NOTES.md", "content": "notes\n"}, {"op": "done", "summary": "d"}]


def test_a_repair_round_that_fixes_the_failure_commits(tmp_path: Path) -> None:
    records = [
        record("mul", MUL_FIRST),
        record("mul", MUL_FIX, first_id=5),
        record("pow", POW),
        record("after", AFTER),
    ]
    state, runner, model = run(tmp_path, records)
    assert [p.status for p in state.phases] == [PhaseStatus.committed] * 3
    mul = state.phase("mul")
    assert mul.requests == 2 and mul.changed_paths == ["src/calc.py", "tests/test_mul.py"]
    repo = git.Repo(tmp_path / "repo")
    assert "return a * b" in repo.git.show(f"{mul.commit_sha}:src/calc.py")
    # The repair turn continued the same conversation, with the gate failure named in it.
    repair = model.requests[1]
    assert repair.purpose == "repair"
    assert [m.role for m in repair.messages] == ["user", "assistant", "user"]
    assert repair.messages[1].content == ndjson(MUL_FIRST).rstrip("\n")
    assert "validation test(s) failed: tests/test_mul.py::test_mul" in repair.messages[2].content
    assert "continue from operation id 5" in repair.messages[2].content.lower()
    # ... under the run's system prompt (its shared context, the cached prefix), not a bare one.
    assert repair.system == model.requests[0].system and "# Repository map" in repair.system
    # One baseline (at the base SHA, before mul was written), one run per finalize, one re-run of
    # the failure; pow and after start from the commit whose gated run is their baseline.
    assert runner.calls == [(), (), ("tests/test_mul.py::test_mul",), (), (), ()]
    check = (tmp_path / "out" / "checks" / "mul.json").read_text(encoding="utf-8")
    assert '"conclusion": "success"' in check


def test_still_blocked_after_the_rounds_fails_with_a_patch_and_blocks_dependents(
    tmp_path: Path,
) -> None:
    still_wrong = [
        {"op": "write", "path": "NOTES.md", "content": "tried\n"},
        {"op": "done", "summary": "no"},
    ]
    records = [record("mul", MUL_FIRST), record("mul", still_wrong, first_id=5)]
    state, _, _ = run(tmp_path, records)
    mul = state.phase("mul")
    assert mul.status is PhaseStatus.failed
    assert "validation test(s) failed: tests/test_mul.py::test_mul" in mul.reason
    patch = Path(mul.patch_file or "").read_text(encoding="utf-8")
    assert "+    return a + b" in patch and "+tried" in patch
    assert state.phase("pow").status is PhaseStatus.blocked
    assert "mul" in state.phase("pow").reason
    repo = git.Repo(tmp_path / "repo")
    assert not repo.is_dirty(untracked_files=True)
    check = (tmp_path / "out" / "checks" / "mul.json").read_text(encoding="utf-8")
    assert '"path": "tests/test_mul.py"' in check and '"start_line": 5' in check


def test_zero_repair_rounds_fails_at_once(tmp_path: Path) -> None:
    state, _, model = run(tmp_path, [record("mul", MUL_FIRST)], rounds=0)
    assert state.phase("mul").status is PhaseStatus.failed
    assert len(model.requests) == 1


def test_a_repair_round_cut_off_fails_with_its_changes_in_the_patch(tmp_path: Path) -> None:
    cut_off = [{"op": "write", "path": "NOTES.md", "content": "half a fix\n"}]  # no 'done'
    records = [record("mul", MUL_FIRST), record("mul", cut_off, first_id=5)]
    state, _, model = run(tmp_path, records)
    mul = state.phase("mul")
    assert mul.status is PhaseStatus.failed
    assert mul.reason.startswith("tests: validation test(s) failed: tests/test_mul.py::test_mul")
    assert "(repair round 1 did not finish: model API error" in mul.reason
    # The round's build asked once more for the missing rest; the transcript had none left.
    assert [r.purpose for r in model.requests] == ["build", "repair", "repair"]
    patch = Path(mul.patch_file or "").read_text(encoding="utf-8")
    assert "+    return a + b" in patch and "+half a fix" in patch
    assert state.phase("pow").status is PhaseStatus.blocked
    assert not git.Repo(tmp_path / "repo").is_dirty(untracked_files=True)


def test_no_repair_round_is_sent_once_the_cost_budget_is_spent(tmp_path: Path) -> None:
    """`budget.max_cost_usd`: "a phase's next request is not sent once the budget is spent". The
    build of mul costs $1.00 (100K output tokens at $10/M) against a $0.50 budget; its gates block
    it. The repair round is a further request of the phase: it must not be sent."""
    root = tmp_path / "repo"
    make_repo(root, BASE)
    ws = GitWorkspace(root)
    snapshots = GitSnapshots(root)
    finalizer = PhaseFinalizer(
        ws.root,
        ws,
        lambda p: snapshots.read_at("HEAD", p),
        ws.head_sha,
        tracker=BaselineTracker(PytestRunner(plugin_autoload=False), MemoryBaselineStore()),
    )
    expensive = Usage(output_tokens=100_000)
    model = ReplayModelClient(
        [
            ReplayRecord(text=ndjson(MUL_FIRST), phase="mul", usage=expensive),
            ReplayRecord(text=ndjson(MUL_FIX, 5), phase="mul", usage=expensive),
        ]
    )
    spec = parse_spec({**SPEC, "model": "claude-sonnet-5-5", "budget": {"max_cost_usd": 0.5}})
    config = ExecutorConfig(run_id="t", repair_rounds=1)
    state = build_executor(
        spec, ws, model, LocalForge(tmp_path / "out"), config, finalizer=finalizer
    ).run()
    assert [r.purpose for r in model.requests] == ["build"], "a repair round was sent past the cap"
    assert state.phase("mul").cost_usd <= 1.0 + 1e-9


def test_a_repair_rounds_continuation_is_counted_in_the_phase_telemetry(tmp_path: Path) -> None:
    """The repair round's response is cut at max_tokens and continued (Contract 3). The telemetry
    (the check run's "continuations", telemetry.json) counts the build's continuations but not
    the round's: `_account` adds the round's requests and one repair, never `built.continuations`."""
    fix_edit, fix_done = ndjson(MUL_FIX, 5).splitlines(keepends=True)
    records = [
        record("mul", MUL_FIRST),
        ReplayRecord(text=fix_edit, stop_reason="max_tokens", phase="mul"),
        ReplayRecord(text=fix_done, phase="mul"),
        record("pow", POW),
        record("after", AFTER),
    ]
    state, _, model = run(tmp_path, records)
    assert state.phase("mul").status is PhaseStatus.committed
    assert [r.purpose for r in model.requests[:3]] == ["build", "repair", "continue"]
    telemetry = json.loads((tmp_path / "out" / "telemetry.json").read_text(encoding="utf-8"))
    mul = next(p for p in telemetry["phases"] if p["phase_id"] == "mul")
    assert [r["stop_reason"] for r in mul["requests"]] == ["end_turn", "max_tokens", "end_turn"]
    assert mul["continuations"] == 1
    assert telemetry["totals"]["continuations"] == 1


def test_a_repair_round_of_an_auto_approved_phase_is_not_taken_for_a_protected_change(
    tmp_path: Path,
) -> None:
    """tests/** is protected and auto-approval is on: mul's build writes tests/test_mul.py (held,
    auto-approved, re-applied) and a wrong src/calc.py; the gates block it and the repair round
    edits only src/calc.py. `touches_protected` checks every applied op of the re-applied change
    set without the approved request's allowance, so the round ends as "protected": its changes
    are discarded, the phase is held again under a second governance request (auto-approved
    again) and finalized once more, as if the round had reached a protected path."""
    root = tmp_path / "repo"
    cfg = "protected_paths: ['tests/**']\nauto_approve: {enabled: true}\n"
    make_repo(root, {**BASE, ".autopack.yml": cfg})
    ws = GitWorkspace(root)
    snapshots = GitSnapshots(root)
    runner = PytestRunner(plugin_autoload=False)
    finalizer = PhaseFinalizer(
        ws.root,
        ws,
        lambda p: snapshots.read_at("HEAD", p),
        ws.head_sha,
        tracker=BaselineTracker(runner, MemoryBaselineStore()),
    )
    model = ReplayModelClient(
        [
            record("mul", MUL_FIRST),
            record("mul", MUL_FIX, first_id=5),
            record("pow", POW),
            record("after", AFTER),
        ]
    )
    lines: list[str] = []
    state = build_executor(
        parse_spec(SPEC),
        ws,
        model,
        LocalForge(tmp_path / "out"),
        ExecutorConfig(run_id="t", repair_rounds=1),
        finalizer=finalizer,
        progress=lines.append,
    ).run()
    assert state.phase("mul").status is PhaseStatus.committed
    assert [r.phase_id for r in state.requests] == ["mul"], "the repair round made a new request"
    assert not [line for line in lines if "held: request" in line][1:]
