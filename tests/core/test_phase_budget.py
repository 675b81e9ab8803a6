"""The budget policy wired into a phase: sizes from the workspace, the builder's schedule, and the
max_tokens the model actually receives."""

from __future__ import annotations

import json
import math
from pathlib import Path

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.package_data import estimator_params, lookup
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.compose import build_executor
from autopack.core.budget.phase import (
    budget_phase,
    phase_estimate_input,
    plan_phase,
    scheduled_settings,
)
from autopack.core.build import BuildSettings, ExecutorConfig
from autopack.core.spec import parse_spec
from autopack.core.usage import Usage

MODEL = lookup("claude-sonnet-5-5")
P = estimator_params()


def _phase(deliverables: list[dict[str, str]], complexity: str | None = None):  # type: ignore[no-untyped-def]
    data = {"goal": "g", "phases": [{"id": "p", "title": "P", "deliverables": deliverables}]}
    if complexity:
        data["phases"][0]["complexity"] = complexity  # type: ignore[index]
    return parse_spec(data).phases[0]


def test_sizes_come_from_the_workspace_and_missing_modify_counts_as_create() -> None:
    files = {"src/a.py": b"x = 1\n" * 100}
    phase = _phase([{"path": "src/a.py", "action": "modify"}, {"path": "src/b.py"}])
    inp = phase_estimate_input(phase, files.get)
    a, b = inp.deliverables
    assert (a.action, a.lines, a.chars) == ("modify", 100, 600)
    assert (b.action, b.lines, b.chars) == ("create", None, None)


def test_file_sizes_drive_the_whole_file_estimate_and_modifications_use_edit_ops() -> None:
    small = {"src/a.py": b"x = 1\n" * 20}
    big = {"src/a.py": b"x = 1\n" * 20_000}
    phase = _phase([{"path": "src/a.py", "action": "modify"}])
    p_small, p_big = plan_phase(phase, small.get, MODEL, P), plan_phase(phase, big.get, MODEL, P)
    assert p_small.format == p_big.format == "edit"
    assert not p_small.fallback
    assert p_small.estimate is not None and p_big.estimate is not None
    # 120,000 chars is ~33K tokens whole; edit ops for one file grow only with its root.
    assert p_big.estimate.full_file_tokens > 100 * p_small.estimate.full_file_tokens
    assert p_big.estimate.edit_tokens < 2 * p_small.estimate.edit_tokens
    assert p_small.max_tokens <= MODEL.max_output_tokens


def test_created_files_only_are_written_whole() -> None:
    plan = plan_phase(_phase([{"path": "docs/new.md", "action": "create"}]), {}.get, MODEL, P)
    assert plan.format == "whole"


def test_no_deliverables_falls_back_to_the_static_budget_of_the_complexity() -> None:
    plan = plan_phase(_phase([], complexity="high"), {}.get, MODEL, P)
    assert plan.fallback and plan.max_tokens == 16384


def test_schedule_follows_the_plan_then_jumps_to_the_model_max() -> None:
    plan = plan_phase(
        _phase([{"path": "a.py", "action": "modify"}]), {"a.py": b"y\n"}.get, MODEL, P
    )
    s = scheduled_settings(BuildSettings(max_continuations=2), plan, MODEL)
    first = s.max_tokens_at(0, None)
    assert first == plan.max_tokens
    # After a cut: the model's max output at once (not billed), not x2 of a small first budget.
    assert s.max_tokens_at(1, first) == MODEL.max_output_tokens
    assert s.max_tokens_at(5, 100_000) == MODEL.max_output_tokens
    # ... kept inside the context window for a long conversation.
    near_full = MODEL.context_window - 10_000
    assert s.max_tokens_at(1, first, input_tokens=near_full) == 10_000
    assert s.max_continuations == 2 + len(plan.requests) - 1
    assert s.cache.min_tokens == MODEL.min_cache_tokens


def test_counts_and_hints_size_the_deliverables() -> None:
    files = {"src/a.py": b"x = 1\n" * 100, "src/b.py": b"y = 2\n"}
    phase = _phase(
        [{"path": "src/a.py", "action": "modify"}, {"path": "src/new.py", "action": "create"}]
    )
    counted: list[str] = []

    def count(path: str, data: bytes) -> int:
        counted.append(path)
        return 777

    inp = phase_estimate_input(phase, files.get, count, lambda path: 321)
    a, new = inp.deliverables
    assert (a.tokens, a.hint_tokens) == (777, None)
    assert (new.tokens, new.hint_tokens) == (None, 321)
    assert counted == ["src/a.py"]  # a created file has nothing to count
    offline = phase_estimate_input(phase, files.get)
    assert offline.deliverables[0].tokens is None and offline.deliverables[1].hint_tokens is None


def test_a_created_file_is_sized_by_what_its_description_says_first() -> None:
    phase = _phase(
        [
            {"path": "pkg/a.py", "action": "create", "description": "a ~150-line parser module"},
            {"path": "pkg/b.py", "action": "create", "description": "the parser's types"},
        ]
    )
    inp = phase_estimate_input(phase, {}.get, None, lambda path: 321, P)
    said, typical = inp.deliverables
    assert said.hint_tokens == math.ceil(150 * P.tokens_per_line)
    assert typical.hint_tokens == 321  # nothing said: similar files
    assert phase_estimate_input(phase, {}.get).deliverables[0].hint_tokens is None


def test_budget_phase_orders_by_imports_and_batches_only_when_needed() -> None:
    files = {
        "pkg/core.py": b"from pkg.types import Config\n\ndef run(c: Config) -> None: ...\n",
        "pkg/types.py": b"class Config: ...\n",
    }
    spec = [
        {"path": "tests/test_core.py", "action": "create"},
        {"path": "pkg/core.py", "action": "modify"},
        {"path": "pkg/types.py", "action": "modify"},
    ]
    found = budget_phase(_phase(spec), files.get, MODEL, P)
    assert found.layout.order == ["pkg/types.py", "pkg/core.py", "tests/test_core.py"]
    assert found.layout.batches == [found.layout.order]  # small: one batch
    assert [r.paths for r in found.plan.requests] == [found.layout.order]
    wide = [{"path": f"pkg/m{i:02}.py", "action": "create"} for i in range(14)]
    split = budget_phase(_phase(wide), {}.get, MODEL, P)
    assert [len(b) for b in split.layout.batches] == [12, 2]
    assert len(split.batch_plans) == 2
    assert [p for r in split.plan.requests for p in r.paths] == split.layout.order
    assert split.plan.max_tokens == split.batch_plans[0].max_tokens
    assert {p.format for p in split.batch_plans} == {split.plan.format}


def test_the_model_receives_the_planned_max_tokens_and_the_error_is_reported(
    git_repo: Path, tmp_path: Path
) -> None:
    spec = parse_spec(
        {
            "goal": "g",
            "model": "claude-sonnet-5-5",
            "phases": [
                {
                    "id": "edit-app",
                    "title": "Edit app",
                    "deliverables": [{"path": "src/app.py", "action": "modify"}],
                }
            ],
        }
    )
    ops = [
        {"op": "edit", "id": 1, "path": "src/app.py", "old": "'hi'", "new": "'hello'"},
        {"op": "done", "id": 2, "summary": "ok"},
    ]
    text = "".join(json.dumps(o) + "\n" for o in ops)
    cut = len(text.splitlines()[0]) + 5  # cut inside the second line
    model = ReplayModelClient(
        [
            ReplayRecord(text=text[:cut], stop_reason="max_tokens", usage=Usage(output_tokens=40)),
            ReplayRecord(text=text.splitlines()[1] + "\n", usage=Usage(output_tokens=15)),
        ]
    )
    lines: list[str] = []
    expected = plan_phase(spec.phases[0], GitWorkspace(git_repo).read, MODEL, P)  # before the run
    state = build_executor(
        spec,
        GitWorkspace(git_repo),
        model,
        LocalForge(tmp_path / "out"),
        ExecutorConfig(run_id="budget"),
        progress=lines.append,
    ).run()
    assert state.succeeded
    sent = [r.max_tokens for r in model.requests]
    assert sent == [expected.max_tokens, MODEL.max_output_tokens]  # after the cut: the max
    assert any(line.strip().startswith("estimate ~") for line in lines)
    assert any("output 55 tokens vs estimate" in line for line in lines)
    telemetry = json.loads((tmp_path / "out" / "telemetry.json").read_text())
    phase = telemetry["phases"][0]
    assert phase["estimated_output_tokens"] == expected.estimate_tokens


def test_a_fixed_max_tokens_bypasses_the_policy(git_repo: Path, tmp_path: Path) -> None:
    spec = parse_spec({"goal": "g", "phases": [{"id": "a", "title": "A", "allow_no_change": True}]})
    model = ReplayModelClient([ReplayRecord(text='{"op": "done", "id": 1, "summary": "s"}\n')])
    config = ExecutorConfig(run_id="fixed", budget=None, build=BuildSettings(max_tokens=1234))
    build_executor(spec, GitWorkspace(git_repo), model, LocalForge(tmp_path / "o"), config).run()
    assert [r.max_tokens for r in model.requests] == [1234]
