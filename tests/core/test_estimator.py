"""Tests of the output-size estimator (layer 1)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autopack.adapters.package_data import estimator_params
from autopack.core.budget.estimator import DeliverableSize, EstimateInput, estimate, tokens_of

P = estimator_params()


def _one(**kw: object) -> EstimateInput:
    return EstimateInput(goal="g", deliverables=[DeliverableSize.model_validate(kw)])


def test_tokens_prefer_tokens_then_chars_then_lines() -> None:
    assert tokens_of(tokens=100, chars=9999, lines=999, params=P) == 100
    assert tokens_of(tokens=None, chars=360, lines=999, params=P) == pytest.approx(
        360 / P.chars_per_token
    )
    assert tokens_of(tokens=None, chars=None, lines=10, params=P) == pytest.approx(
        10 * P.tokens_per_line
    )
    assert tokens_of(tokens=None, chars=None, lines=None, params=P) is None


def test_modified_file_whole_output_is_its_current_size() -> None:
    est = estimate(_one(path="a.py", action="modify", lines=100, chars=3600, tokens=1000), P)
    assert est.full_file_tokens == round(1000 * P.modify_growth)
    # Edit ops do not depend on file size: a 10x larger file costs the same edits.
    big = estimate(_one(path="a.py", action="modify", lines=1000, chars=36000, tokens=10_000), P)
    assert big.edit_tokens == est.edit_tokens == P.edit_tokens_per_file
    assert est.complete and est.unknown_paths == []


def test_runtime_caller_gives_chars_and_lines_only() -> None:
    est = estimate(_one(path="a.py", action="modify", lines=100, chars=3600), P)
    assert est.full_file_tokens == pytest.approx(3600 / P.chars_per_token, abs=1)


def test_created_file_is_written_whole_in_both_shapes() -> None:
    est = estimate(_one(path="new.py", action="create"), P)
    assert est.full_file_tokens == est.edit_tokens == P.create_tokens
    assert est.deliverables[0].whole


def test_delete_and_rename_are_short_ops() -> None:
    inp = EstimateInput(
        deliverables=[
            DeliverableSize(path="old.py", action="delete", lines=10, chars=400, tokens=120),
            DeliverableSize(
                path="b.py", action="rename", old_path="a.py", lines=10, chars=400, tokens=120
            ),
        ]
    )
    est = estimate(inp, P)
    assert est.edit_tokens == P.delete_op_tokens + P.rename_op_tokens
    assert est.full_file_tokens == 120  # the renamed file's content; a delete writes nothing


def test_scope_exponent_widens_per_file_edits() -> None:
    files = [
        DeliverableSize(path=f"m{i}.py", action="modify", lines=50, chars=1800, tokens=500)
        for i in range(4)
    ]
    est = estimate(EstimateInput(deliverables=files), P)
    per_file = est.deliverables[0].edit_tokens
    assert per_file > P.edit_tokens_per_file
    assert per_file == pytest.approx(P.edit_tokens_per_file * 4**P.edit_scope_exponent, abs=1)
    assert est.edit_tokens == sum(d.edit_tokens for d in est.deliverables)


def test_rewrite_flag_writes_existing_file_whole() -> None:
    est = estimate(
        _one(path="a.py", action="modify", tokens=800, lines=1, chars=1, rewrite=True), P
    )
    assert est.edit_tokens == est.full_file_tokens == 800


def test_modified_file_without_size_is_unknown() -> None:
    est = estimate(_one(path="a.py", action="modify"), P)
    assert not est.complete
    assert est.unknown_paths == ["a.py"]
    assert not estimate(EstimateInput(), P).complete


def test_bad_input_is_rejected_with_field() -> None:
    with pytest.raises(ValidationError, match="action"):
        DeliverableSize.model_validate({"path": "a", "action": "explode"})
    with pytest.raises(ValidationError, match="chars"):
        DeliverableSize.model_validate({"path": "a", "action": "modify", "chars": -1})
