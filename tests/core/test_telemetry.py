"""Telemetry: per request and per phase, from a real build against the local Messages API server;
cost from the model table; the JSON artifact and the Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.package_data import lookup
from autopack.app.builder import build_phase
from autopack.core.build import BuildOutcome, BuildSettings, RequestRecord
from autopack.core.edits.changeset import ChangeSet
from autopack.core.telemetry import RunTelemetry, phase_telemetry, render_table
from autopack.core.usage import Usage
from support.messages_server import MessagesServer, Reply
from support.ndjson import big_module, cut_script, line_starts, ops_text

MODEL = "claude-haiku-4-5"


def test_phase_telemetry_from_a_continued_build(git_repo: Path) -> None:
    text = ops_text(big_module(chunks=3))
    starts = line_starts(text)
    replies, _ = cut_script(text, [starts[2] + 5])
    with MessagesServer(replies) as server:
        client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
        outcome = build_phase(
            client,
            model=MODEL,
            system="system " * 50,
            prompt="context " * 800,  # 1,600 tokens: over the minimum cacheable prefix
            changes=ChangeSet(GitWorkspace(git_repo)),
            settings=BuildSettings(next_max_tokens=(16_000,)),  # two requests planned
            phase_id="big",
        )
    assert outcome.complete
    info = lookup(MODEL)
    pt = phase_telemetry(
        "big", outcome, info, status="committed", wall_s=1.25, estimated_output_tokens=400
    )

    assert len(pt.requests) == 2 and pt.continuations == 1 and pt.repairs == 0
    assert [r.purpose for r in pt.requests] == ["build", "continue"]
    assert [r.stop_reason for r in pt.requests] == ["max_tokens", "end_turn"]
    first, second = pt.requests
    assert first.usage.cache_creation_input_tokens > 0 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert all(r.wall_s is not None and r.wall_s >= 0 for r in pt.requests)
    # Cost: haiku 4.5 is $1/M input, $5/M output; cache write 1.25x, read 0.1x input.
    u = pt.usage
    expected = (
        u.input_tokens * 1.0
        + u.output_tokens * 5.0
        + u.cache_creation_input_tokens * 1.25
        + u.cache_read_input_tokens * 0.1
    ) / 1e6
    assert pt.cost_usd == pytest.approx(expected)
    assert pt.usage.output_tokens == sum(-(-len(r.text) // 4) for r in replies)
    assert pt.estimate_error == pytest.approx(pt.usage.output_tokens / 400)

    run = RunTelemetry(run_id="r", model=MODEL)
    run.add(pt)
    run.add(pt.model_copy(update={"phase_id": "other", "wall_s": None}))
    run.add(pt.model_copy())  # built again (a resume): one row, both attempts' requests
    data = json.loads(run.to_json())
    assert [p["phase_id"] for p in data["phases"]] == ["other", "big"]
    assert data["totals"]["requests"] == 6 and data["totals"]["continuations"] == 3
    assert data["totals"]["output_tokens"] == 3 * u.output_tokens
    assert data["totals"]["cost_usd"] == pytest.approx(3 * expected, abs=1e-6)
    assert data["phases"][1]["requests"][0]["stop_reason"] == "max_tokens"
    assert data["phases"][1]["estimated_output_tokens"] == 400

    # The saving versus no caching: the read at 0.1x instead of 1x, less the write premium.
    saving = (
        u.cache_read_input_tokens * (1.0 - 0.1) - u.cache_creation_input_tokens * (1.25 - 1.0)
    ) / 1e6
    assert saving > 0 and pt.cache_saving_usd == pytest.approx(saving)
    assert data["totals"]["cache_saving_usd"] == pytest.approx(3 * saving, abs=1e-6)
    assert (
        data["phases"][1]["requests"][1]["uncached_cost_usd"]
        > data["phases"][1]["requests"][1]["cost_usd"]
    )

    table = render_table(run)
    assert f"Token telemetry ({MODEL})" in table
    assert f"Prompt caching saved ${3 * saving:.4f}" in table
    assert f"| `big` | 4 | 2 | 0 | 400 | {2 * u.output_tokens:,} |" in table
    assert "| **total** | 6 | 3 | 0 |" in table
    assert f"{3 * expected:.4f}" in table


def test_dropped_request_is_recorded(git_repo: Path) -> None:
    text = ops_text(big_module(chunks=2))
    with MessagesServer([Reply(text=text, drop_after=50), Reply(text=text)]) as server:
        client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
        outcome = build_phase(
            client,
            model=MODEL,
            system="s",
            prompt="p",
            changes=ChangeSet(GitWorkspace(git_repo)),
            settings=BuildSettings(),
        )
    pt = phase_telemetry("x", outcome, lookup(MODEL))
    assert [r.stop_reason for r in pt.requests] == ["dropped", "end_turn"]
    assert "dropped after 50 characters" in pt.requests[0].error
    assert pt.continuations == 1


def test_telemetry_json_reads_back_for_a_resume() -> None:
    outcome = BuildOutcome(
        complete=True,
        requests=[
            RequestRecord(
                purpose="build",
                max_tokens=100,
                stop_reason="end_turn",
                usage=Usage(input_tokens=10, output_tokens=5),
                ops_received=1,
                malformed_lines=0,
            )
        ],
    )
    t = RunTelemetry(run_id="r", model=MODEL)
    t.add(phase_telemetry("a", outcome, lookup(MODEL)))
    back = RunTelemetry.from_json(t.to_json())
    assert back == t and back.to_json() == t.to_json()
