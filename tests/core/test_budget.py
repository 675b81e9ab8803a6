"""Tests of the budget policy."""

from __future__ import annotations

import math

import pytest

from autopack.adapters.package_data import estimator_params, lookup
from autopack.core.budget.estimator import DeliverableSize, EstimateInput, estimate
from autopack.core.budget.policy import BudgetSettings, next_max_tokens, plan_budget

SONNET = lookup("claude-sonnet-4-5")
OPUS41 = lookup("claude-opus-4-1")
P = estimator_params()


def _mod(path: str, tokens: int) -> DeliverableSize:
    return DeliverableSize(path=path, action="modify", tokens=tokens, chars=tokens * 4, lines=1)


def test_edit_format_by_default_with_margin_and_pad() -> None:
    est = estimate(EstimateInput(deliverables=[_mod("a.py", 5000)]), P)
    s = BudgetSettings()
    plan = plan_budget(est, SONNET, s)
    assert plan.format == "edit" and not plan.fallback
    assert plan.estimate_tokens == est.edit_tokens
    # estimate * (1 + margin) + pad, plus the edit tail of the largest modified file.
    tail = math.ceil(s.edit_tail_coefficient * math.sqrt(5000))
    assert plan.max_tokens == math.ceil(est.edit_tokens * (1 + s.margin_edit)) + s.pad_tokens + tail
    assert plan.requests[0].max_tokens == plan.max_tokens
    assert len(plan.requests) == 1 and plan.requests[0].paths == ["a.py"]
    assert plan.estimate is est


def test_whole_format_for_created_files_only() -> None:
    est = estimate(EstimateInput(deliverables=[DeliverableSize(path="n.py", action="create")]), P)
    assert plan_budget(est, SONNET).format == "whole"
    mixed = estimate(
        EstimateInput(deliverables=[DeliverableSize(path="n.py", action="create"), _mod("a", 9)]), P
    )
    assert plan_budget(mixed, SONNET).format == "edit"
    assert plan_budget(mixed, SONNET, BudgetSettings(prefer_edit=False)).format == "whole"


def test_large_output_is_split_into_ordered_requests_within_model_max() -> None:
    files = [_mod(f"f{i}.py", 20_000) for i in range(6)]  # 120K tokens whole
    est = estimate(EstimateInput(deliverables=files), P)
    plan = plan_budget(est, SONNET, BudgetSettings(prefer_edit=False))
    assert len(plan.requests) >= 2
    assert all(r.max_tokens <= SONNET.max_output_tokens for r in plan.requests)
    covered = [p for r in plan.requests for p in r.paths]
    assert covered == [f.path for f in files]  # each once, in order
    assert sum(r.estimate_tokens for r in plan.requests) == est.full_file_tokens
    assert plan.reserved_tokens >= est.full_file_tokens


def test_file_larger_than_one_response_spans_parts() -> None:
    est = estimate(EstimateInput(deliverables=[_mod("huge.py", 70_000)]), P)
    plan = plan_budget(est, OPUS41, BudgetSettings(prefer_edit=False))  # 32K max output
    parts = [r for r in plan.requests if r.paths == ["huge.py"]]
    assert len(parts) == parts[0].parts >= 3
    assert [r.part for r in parts] == list(range(1, len(parts) + 1))
    assert all(r.max_tokens <= 32_000 for r in parts)


def test_context_window_bounds_max_tokens() -> None:
    est = estimate(EstimateInput(deliverables=[_mod("a.py", 50_000)]), P)
    plan = plan_budget(est, SONNET, BudgetSettings(prefer_edit=False), input_tokens=190_000)
    assert all(r.max_tokens <= SONNET.context_window - 190_000 for r in plan.requests)


def test_static_fallback_when_nothing_can_be_estimated() -> None:
    unknown = estimate(EstimateInput(deliverables=[DeliverableSize(path="a", action="modify")]), P)
    plan = plan_budget(unknown, SONNET, complexity="high")
    assert plan.fallback and plan.max_tokens == 16384 and plan.estimate_tokens is None
    assert plan_budget(None, SONNET, complexity="low").max_tokens == 8192
    assert next_max_tokens(SONNET) == SONNET.max_output_tokens  # after a cut: the max
    off = plan_budget(None, SONNET, BudgetSettings(static_fallback=False))
    assert off.fallback and off.max_tokens == SONNET.max_output_tokens


def test_after_a_cut_the_next_request_gets_the_model_max_inside_the_context_window() -> None:
    assert next_max_tokens(SONNET) == SONNET.max_output_tokens
    assert next_max_tokens(OPUS41) == 32_000
    assert next_max_tokens(SONNET, input_tokens=190_000) == SONNET.context_window - 190_000


def test_the_edit_tail_grows_with_the_largest_modified_file_only() -> None:
    s = BudgetSettings()
    small = plan_budget(estimate(EstimateInput(deliverables=[_mod("a.py", 400)]), P), SONNET, s)
    big = plan_budget(estimate(EstimateInput(deliverables=[_mod("a.py", 40_000)]), P), SONNET, s)
    no_tail = s.model_copy(update={"edit_tail_coefficient": 0.0})
    big_plain = plan_budget(
        estimate(EstimateInput(deliverables=[_mod("a.py", 40_000)]), P), SONNET, no_tail
    )
    assert big.max_tokens - big_plain.max_tokens == math.ceil(s.edit_tail_coefficient * 200)
    assert big.max_tokens > small.max_tokens
    created = estimate(EstimateInput(deliverables=[DeliverableSize(path="n", action="create")]), P)
    whole = plan_budget(created, SONNET, s)  # whole files: no edit tail
    assert whole.max_tokens == math.ceil(created.full_file_tokens * 1.15) + s.pad_tokens


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="margin_edit"):
        BudgetSettings(margin_edit=-1)
    with pytest.raises(ValueError, match="extra"):
        BudgetSettings.model_validate({"marginn": 1})


def test_max_tokens_has_room_for_the_kind_weighted_reserve_but_the_estimate_stays() -> None:
    params = P.model_copy(update={"edit_reserve_weight": {"python_test": 3.0}})
    est = estimate(EstimateInput(deliverables=[_mod("tests/test_a.py", 5000)]), params)
    (row,) = est.deliverables
    assert row.edit_reserve_tokens > row.edit_tokens
    s = BudgetSettings()
    plan = plan_budget(est, SONNET, s)
    tail = math.ceil(s.edit_tail_coefficient * math.sqrt(5000))
    room = math.ceil(row.edit_reserve_tokens * (1 + s.margin_edit)) + s.pad_tokens + tail
    assert plan.max_tokens == room
    assert plan.estimate_tokens == est.edit_tokens == plan.requests[0].estimate_tokens
