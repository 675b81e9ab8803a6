"""Telemetry records the context tokens of each phase's first request."""

from __future__ import annotations

import json

from autopack.adapters.package_data import lookup
from autopack.core.build import BuildOutcome
from autopack.core.telemetry import PhaseTelemetry, RunTelemetry, phase_telemetry, render_table

MODEL = "claude-haiku-4-5"


def test_context_tokens_per_phase_are_recorded_and_shown() -> None:
    sections = {"system": 3000, "instructions": 100, "repo_map": 2500, "prompt": 9000,
                "deliverables": 6000, "related": 2800}  # fmt: skip
    pt = phase_telemetry("p", BuildOutcome(complete=True), lookup(MODEL), context_tokens=sections)
    assert pt.context_tokens == sections and pt.context_total == 12_000
    assert PhaseTelemetry(phase_id="old").context_total is None  # telemetry from before
    run = RunTelemetry(model=MODEL)
    run.add(pt)
    assert json.loads(run.to_json())["phases"][0]["context_tokens"]["repo_map"] == 2500
    table = render_table(run)
    assert "| wall s | context |" in table and "| 12,000 |" in table
