"""Tests of the record loader, the estimator and policy benchmarks, and their commands."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from autopack.adapters.package_data import estimator_params, lookup
from autopack.bench.conversation import CacheSim
from autopack.bench.estimator import (
    BenchRecord,
    EstimateRecord,
    bench_estimator,
    load_records,
    parse_records,
    render_estimator_table,
)
from autopack.bench.policy import (
    SimConfig,
    SimRun,
    bench_policy,
    cache_saving,
    render_policy_table,
    sim_autopack,
    sim_oracle,
    sim_regenerate,
    variants,
)
from autopack.bench.policy_table import render_cache_lines
from autopack.cli import main
from autopack.core.budget.policy import BudgetSettings
from autopack.errors import RecordError

DEV = Path(__file__).resolve().parents[3] / "shared" / "bench" / "estimator-dev.jsonl"
INFO = lookup("claude-sonnet-4-5")
P = estimator_params()


def run(cfg: SimConfig | None = None) -> SimRun:
    c = cfg or SimConfig()
    return SimRun(INFO.model_copy(update={"max_output_tokens": c.max_output}), c)


def _record(rid: str, before: list[int], after: list[int], diff: int) -> dict[str, Any]:
    dels = []
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        dels.append(
            {
                "path": f"src/f{i}.py",
                "action": "modify",
                "old_path": None,
                "before": {"lines": b // 8, "chars": b * 4, "tokens": b},
                "after": {"lines": a // 8, "chars": a * 4, "tokens": a},
                "added_lines": 3,
                "removed_lines": 1,
            }
        )
    return {
        "id": rid,
        "repo": "o/r",
        "goal": "Fix a bug",
        "deliverables": dels,
        "actual": {"full_file_tokens": sum(after), "diff_tokens": diff, "files": len(dels)},
    }


def _lines(*recs: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r) for r in recs) + "\n"


def test_estimate_record_ignores_ground_truth() -> None:
    rec = _record("a", [1000], [5000], 300)
    (parsed,) = parse_records(_lines(rec), EstimateRecord)
    assert "actual" not in parsed.model_dump()
    assert "after" not in parsed.model_dump()["deliverables"][0]
    # Changing the truth does not change what an estimator sees.
    other = _record("a", [1000], [99], 7)
    assert parse_records(_lines(other), EstimateRecord)[0] == parsed


def test_malformed_records_name_line_and_field(tmp_path: Path) -> None:
    good = _lines(_record("a", [10], [10], 5))
    with pytest.raises(RecordError, match=r"x\.jsonl:2: invalid JSON"):
        parse_records(good + "{nope\n", EstimateRecord, source="x.jsonl")
    bad = _record("b", [10], [10], 5)
    bad["deliverables"][0]["action"] = "explode"
    with pytest.raises(RecordError, match=r":3: field deliverables\.0\.action"):
        parse_records(good + "\n" + _lines(bad), EstimateRecord)
    del bad["deliverables"][0]["action"]
    bad["deliverables"][0]["action"] = "modify"
    del bad["actual"]
    with pytest.raises(RecordError, match=r":1: field actual"):
        parse_records(_lines(bad), BenchRecord)
    with pytest.raises(RecordError, match="cannot read"):
        load_records(tmp_path / "missing.jsonl", BenchRecord)
    (tmp_path / "blank.jsonl").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"blank.jsonl: no records"):
        load_records(tmp_path / "blank.jsonl", BenchRecord)


def test_estimator_bench_scores_synthetic_records() -> None:
    recs = parse_records(
        _lines(_record("a", [1000], [1000], 200), _record("b", [2000, 3000], [2000, 3000], 460)),
        BenchRecord,
    )
    results = bench_estimator(recs, INFO)
    ours_full, ours_edit = results["autopack"]
    assert ours_full.median_ape == pytest.approx(0.0)
    assert ours_full.within_20 == 1.0 and ours_full.under_max_tokens == 0.0
    # Edits: 150 + 0.5 sqrt(size) for a one-file phase; 150 x 2**0.4 + 0.5 sqrt(size) per file
    # of a two-file one.
    one = P.edit_tokens_per_file + P.edit_size_coefficient * 1000**0.5
    two = sum(
        P.edit_tokens_per_file * 2**P.edit_scope_exponent + P.edit_size_coefficient * t**0.5
        for t in (2000, 3000)
    )
    errors = sorted([abs(math.ceil(one) - 200) / 200, abs(two - 460) / 460])
    assert ours_edit.median_ape == pytest.approx(sum(errors) / 2, abs=0.01)
    assert ours_edit.reserved_per_generated > 1  # every plan reserves more than it needs here
    live_full, _ = results["autopack (live: no tokens)"]
    assert live_full.median_ape > 0  # chars / ratio is not the exact count
    assert "before #15" in results
    fixed_full, _ = results["seed fixed 12,288"]
    assert fixed_full.median_ape > 1.0  # 12,288 vs 1,000 and 5,000
    assert "autopack" in render_estimator_table(results, len(recs))


def test_regeneration_wastes_the_failed_attempt_and_escalation_recovers() -> None:
    (rec,) = parse_records(_lines(_record("a", [9000], [10_000], 300)), BenchRecord)
    static = sim_regenerate(rec, run(), 8192, 1.0, 3)
    assert static.failed and static.requests == 3 and static.wasted == 3 * 8192
    escalated = sim_regenerate(rec, run(), 8192, 1.5, 3)
    assert not escalated.failed and escalated.requests == 2
    assert escalated.wasted == 8192 and escalated.generated == 8192 + 10_000
    assert escalated.reserved == 8192 + 12288


def test_autopack_continues_and_asks_for_the_max_after_a_cut() -> None:
    # Estimate 1,000 (before) but the model writes 20,000: a heavy under-estimate.
    (rec,) = parse_records(_lines(_record("a", [1000], [20_000], 300)), BenchRecord)
    cfg = SimConfig()
    ours = variants(BudgetSettings())
    res = sim_autopack(rec, run(cfg), "whole", ours["autopack"])
    oracle = sim_oracle(rec, run(cfg), "whole")
    # Cut once, then the model's max output: two requests.
    assert not res.failed and res.requests == 2
    # Only the partial last line of each cut-off response is repeated.
    assert res.wasted == cfg.partial_line_whole
    assert res.generated == 20_000 + res.wasted
    assert res.cost_usd > oracle.cost_usd
    # Doubling after each cut (before #15) needs more requests and costs more.
    doubling = sim_autopack(rec, run(cfg), "whole", ours["before #15"])
    assert doubling.requests >= 4 and doubling.cost_usd > res.cost_usd


def test_output_over_model_max_fails_without_continuation_only() -> None:
    (rec,) = parse_records(
        _lines(_record("a", [50_000, 40_000], [50_000, 40_000], 900)), BenchRecord
    )
    cfg = SimConfig()
    assert sim_regenerate(rec, run(cfg), cfg.max_output, 1.0, 1).failed
    ours = sim_autopack(rec, run(cfg), "whole", variants(BudgetSettings())["autopack"])
    # Two batches, each one response that fits: nothing is cut, nothing wasted.
    assert not ours.failed and ours.requests == 2 and ours.wasted == 0 and ours.batches == 2


def test_policy_table_has_every_policy() -> None:
    recs = parse_records(_lines(_record("a", [500], [600], 100)), BenchRecord)
    rows = bench_policy(recs)
    names = [(r.name, r.format) for r in rows]
    assert ("autopack", "edit") in names and ("oracle", "whole") in names
    assert ("autopack (live: no tokens)", "whole") in names and ("before #15", "edit") in names
    assert len(names) == 11
    oracle = next(r for r in rows if r.name == "oracle" and r.format == "whole")
    assert oracle.cost_vs_oracle == pytest.approx(1.0)
    assert "seed static x1.5" in render_policy_table(rows, 1)


def test_estimate_command_prints_one_line_per_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text(_lines(_record("a", [1000], [1000], 200), _record("b", [10], [10], 5)))
    assert main(["estimate", "--batch", str(f)]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert set(out[0]) == {
        "id",
        "full_file_tokens",
        "edit_tokens",
        "format",
        "max_tokens",
        "reserved_tokens",
        "requests",
    }
    assert out[0]["full_file_tokens"] == 1000 and out[0]["format"] == "edit"


def test_bench_command_reports_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text('{"id": "x"}\n')
    assert main(["bench", "estimator", "--cases", str(f)]) == 1
    assert "r.jsonl:1: field deliverables" in capsys.readouterr().err


def test_the_cache_sim_bills_like_the_api() -> None:
    cache = CacheSim(min_tokens=1024)
    blocks = [("sys", 1500), ("prompt", 3000)]
    first = cache.bill(blocks, {1})
    assert (first.input_tokens, first.cache_creation_input_tokens) == (0, 4500)
    more = [*blocks, ("a1", 500), ("u1", 40)]
    second = cache.bill(more, {3})  # the moving breakpoint finds the earlier one by lookback
    assert second.cache_read_input_tokens == 4500 and second.cache_creation_input_tokens == 540
    bare = cache.bill(more, set())  # without a breakpoint nothing is read
    assert bare.input_tokens == 5040 and bare.cache_read_input_tokens == 0
    small = CacheSim(min_tokens=1024).bill([("s", 500), ("p", 400)], {0, 1})
    assert small.cache_creation_input_tokens == 0 and small.input_tokens == 900  # under minimum


def test_cache_saving_compares_placements_on_the_same_requests() -> None:
    recs = parse_records(
        _lines(*(_record(f"r{i}", [3000, 2000], [3100, 2000], 400) for i in range(4))),
        BenchRecord,
    )
    costs = cache_saving(recs)
    for fmt in ("whole", "edit"):
        # One request per phase: today's placement pays the write premium and never reads the
        # phase prompt; ours writes only the system prompt the run's phases share.
        assert costs[(fmt, "pays")] < costs[(fmt, "today")]
        assert costs[(fmt, "pays")] < costs[(fmt, "none")]
    assert "saves" in render_cache_lines(costs)


@pytest.mark.skipif(not DEV.exists(), reason="shared bench data not present")
def test_dev_set_meets_targets() -> None:
    recs = load_records(DEV, BenchRecord)
    results = bench_estimator(recs)
    for name in ("autopack", "autopack (live: no tokens)"):
        full, edit = results[name]
        assert full.median_ape <= 0.05 and full.under_max_tokens <= 0.02
        assert edit.median_ape <= 0.40 and edit.under_max_tokens <= 0.025
        assert full.reserved_per_generated <= 3 and edit.reserved_per_generated <= 3
    before_live = results["before #15 (live)"]
    assert results["autopack (live: no tokens)"][0].median_ape < before_live[0].median_ape
    assert results["autopack"][1].under_max_tokens < results["before #15"][1].under_max_tokens
    rows = {(r.name, r.format): r for r in bench_policy(recs)}
    seeds = [
        rows[("seed static + regenerate", "whole")],
        rows[("seed static x1.5 + regenerate", "whole")],
    ]
    for fmt in ("whole", "edit"):
        ours = rows[("autopack", fmt)]
        assert ours.cost_vs_oracle <= 1.05
        assert ours.failed == 0
        assert ours.requests_per_phase <= 1.1
        assert ours.cost_usd < rows[("before #15", fmt)].cost_usd
        for seed in seeds:
            assert ours.cost_usd < seed.cost_usd and ours.failed < seed.failed
