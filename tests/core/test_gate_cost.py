"""The test gates' cost per phase (pure): suite runs, tests executed, test wall time, baseline cache
hit or miss, in telemetry.json and the telemetry table."""

from __future__ import annotations

import json

from autopack.core.gates.decision import GateCost
from autopack.core.telemetry import PhaseTelemetry, RunTelemetry, render_table

MODEL = "claude-haiku-4-5"


def test_gate_cost_per_phase_in_the_json_and_the_table() -> None:
    run = RunTelemetry(run_id="r", model=MODEL)
    run.add(PhaseTelemetry(phase_id="a", wall_s=0.5))
    miss = GateCost(suite_runs=2, tests_executed=40, test_wall_s=3.5, baseline_cache="miss")
    run.add_gate_cost("a", miss)
    run.add_gate_cost("a", GateCost(suite_runs=1, tests_executed=20, test_wall_s=1.0))
    run.add_gate_cost("held", GateCost(suite_runs=1, tests_executed=20, baseline_cache="hit"))
    assert [p.phase_id for p in run.phases] == ["a", "held"]  # a phase with no build gets a row
    a = run.phases[0]
    assert (a.test_runs, a.tests_executed, a.test_wall_s, a.baseline_cache) == (3, 60, 4.5, "miss")
    data = json.loads(run.to_json())
    assert data["phases"][0]["test_runs"] == 3 and data["phases"][1]["baseline_cache"] == "hit"
    totals = data["totals"]
    assert (totals["test_runs"], totals["tests_executed"], totals["test_wall_s"]) == (4, 80, 4.5)
    assert (totals["baseline_cache_hits"], totals["baseline_cache_misses"]) == (1, 1)
    table = render_table(run)
    assert "| wall s | context | suite runs | tests | test s | baseline |" in table
    assert "| 3 | 60 | 4.5 | miss |" in table
    assert "| 4 | 80 | 4.5 | 1 hit, 1 miss |" in table
    assert miss.describe() == (
        "2 test-suite run(s), 40 test(s) executed, 3.5 s of tests, baseline cache miss"
    )
