"""Tests of the output-size estimator (layer 1)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autopack.adapters.package_data import estimator_params
from autopack.core.budget.estimator import (
    DeliverableSize,
    EstimateInput,
    EstimatorParams,
    estimate,
    file_kind,
    tokens_of,
)

P = estimator_params()


def _one(**kw: object) -> EstimateInput:
    return EstimateInput(goal="g", deliverables=[DeliverableSize.model_validate(kw)])


def test_tokens_prefer_tokens_then_chars_then_lines() -> None:
    assert tokens_of(tokens=100, chars=9999, lines=999, params=P) == 100
    # 360 chars on 12 lines: 30 chars a line, the reference, so the kind's ratio applies as is.
    assert tokens_of(tokens=None, chars=360, lines=12, params=P, path="a.py") == pytest.approx(
        360 / P.chars_per_token["python"]
    )
    assert tokens_of(tokens=None, chars=None, lines=10, params=P) == pytest.approx(
        10 * P.tokens_per_line
    )
    assert tokens_of(tokens=None, chars=None, lines=None, params=P) is None


def test_file_kinds_decide_the_ratio_and_long_code_lines_hold_more_chars_per_token() -> None:
    assert [file_kind(p) for p in ("pkg/a.py", "tests/helpers.py", "pkg/test_a.py")] == [
        "python",
        "python_test",
        "python_test",
    ]
    assert [
        file_kind(p) for p in ("pkg/__init__.py", "a.pyi", "README.md", "changelog.d/1.md")
    ] == [
        "package_init",
        "stub",
        "prose",
        "changelog",
    ]
    kinds = ["requirements-dev.txt", "pyproject.toml", ".github/workflows/ci.yml", "x.c"]
    assert [file_kind(p) for p in kinds] == ["requirements", "config", "config", "other"]
    code = tokens_of(tokens=None, chars=3000, lines=100, params=P, path="m.py")
    tests = tokens_of(tokens=None, chars=3000, lines=100, params=P, path="tests/test_m.py")
    prose = tokens_of(tokens=None, chars=3000, lines=100, params=P, path="README.md")
    assert code is not None and tests is not None and prose is not None
    assert code < tests and code < prose  # code is the densest in chars per token
    wide = tokens_of(tokens=None, chars=3000, lines=60, params=P, path="m.py")  # 50 chars/line
    assert wide is not None and wide < code
    # A kind without its own ratio uses "other"; a kind without an exponent ignores line length.
    other = tokens_of(tokens=None, chars=3000, lines=60, params=P, path="x.c")
    slope = P.line_length_exponent.get("other", 0.0)
    assert other == pytest.approx(3000 / (P.chars_per_token["other"] * (50 / 30) ** slope))
    flat = P.model_copy(update={"line_length_exponent": {}})
    other = tokens_of(tokens=None, chars=3000, lines=60, params=flat, path="x.c")
    assert other == pytest.approx(3000 / P.chars_per_token["other"])


def test_modified_file_whole_output_is_its_current_size_and_edits_grow_with_its_root() -> None:
    est = estimate(_one(path="a.py", action="modify", lines=100, chars=3600, tokens=1000), P)
    assert est.full_file_tokens == round(1000 * P.modify_growth)
    assert est.deliverables[0].size_tokens == 1000
    big = estimate(_one(path="a.py", action="modify", lines=1000, chars=36000, tokens=16_000), P)
    # Edit ops barely depend on the size: a 16x larger file costs sqrt(16) = 4x the size term.
    small_term = est.edit_tokens - P.edit_tokens_per_file
    big_term = big.edit_tokens - P.edit_tokens_per_file
    assert small_term == pytest.approx(P.edit_size_coefficient * 1000**0.5, abs=1)
    assert big_term == pytest.approx(4 * small_term, abs=2)
    assert big.edit_tokens < 2 * est.edit_tokens
    assert est.complete and est.unknown_paths == []


def test_runtime_caller_gives_chars_and_lines_only() -> None:
    est = estimate(_one(path="a.py", action="modify", lines=120, chars=3600), P)
    assert est.full_file_tokens == pytest.approx(3600 / P.chars_per_token["python"], abs=1)


def test_created_file_is_written_whole_and_sized_by_its_kind_or_a_hint() -> None:
    est = estimate(_one(path="pkg/new.py", action="create"), P)
    assert est.full_file_tokens == est.edit_tokens == P.create_tokens["python"]
    assert est.deliverables[0].whole
    sizes = [
        estimate(_one(path=p, action="create"), P).full_file_tokens
        for p in ("tests/test_new.py", "pkg/__init__.py", "changelog.d/12.change.md")
    ]
    assert sizes == [
        P.create_tokens["python_test"],
        P.create_tokens["package_init"],
        P.create_tokens["changelog"],
    ]
    assert len(set(sizes) | {P.create_tokens["python"]}) == 4  # no longer one 200 for all
    hinted = estimate(_one(path="pkg/new.py", action="create", hint_tokens=1234), P)
    assert hinted.full_file_tokens == hinted.edit_tokens == 1234
    empty = estimate(_one(path="pkg/new.py", action="create", hint_tokens=0), P)
    assert empty.full_file_tokens == 0  # similar files are empty: a hint of 0 is a size


def test_delete_counts_the_deleted_lines_and_rename_is_a_short_op() -> None:
    inp = EstimateInput(
        deliverables=[
            DeliverableSize(path="old.py", action="delete", lines=10, chars=400, tokens=120),
            DeliverableSize(
                path="b.py", action="rename", old_path="a.py", lines=10, chars=400, tokens=120
            ),
        ]
    )
    est = estimate(inp, P)
    delete, rename = est.deliverables
    assert delete.edit_tokens == P.delete_op_tokens + round(P.delete_content_share * 120)
    assert delete.full_file_tokens == 0  # a delete writes nothing
    assert rename.edit_tokens == P.rename_op_tokens
    assert est.full_file_tokens == 120  # the renamed file's content


def test_scope_exponent_widens_per_file_edits() -> None:
    files = [
        DeliverableSize(path=f"m{i}.py", action="modify", lines=50, chars=1800, tokens=400)
        for i in range(4)
    ]
    est = estimate(EstimateInput(deliverables=files), P)
    per_file = est.deliverables[0].edit_tokens
    size_term = P.edit_size_coefficient * 400**P.edit_size_exponent
    assert per_file == pytest.approx(
        P.edit_tokens_per_file * 4**P.edit_scope_exponent + size_term, abs=1
    )
    assert est.edit_tokens == sum(d.edit_tokens for d in est.deliverables)


def test_params_need_an_other_kind_to_fall_back_on() -> None:
    bare = EstimatorParams.model_validate(
        {
            "chars_per_token": {"other": 4.0},
            "tokens_per_line": 8,
            "modify_growth": 1,
            "create_tokens": {"other": 50},
            "edit_tokens_per_file": 100,
            "edit_scope_exponent": 0,
            "delete_op_tokens": 20,
            "rename_op_tokens": 30,
        }
    )
    est = estimate(_one(path="a.py", action="modify", lines=10, chars=400), bare)
    assert est.full_file_tokens == 100 and est.edit_tokens == 100  # size-free without a coefficient
    assert estimate(_one(path="t.py", action="create"), bare).full_file_tokens == 50


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


def test_the_kind_weight_widens_only_the_reserve_of_a_modified_file() -> None:
    params = P.model_copy(update={"edit_reserve_weight": {"python_test": 3.0, "prose": 0.5}})
    rows = [
        DeliverableSize(path=p, action="modify", tokens=900, chars=3600, lines=100)
        for p in ("m.py", "tests/test_m.py", "README.md")
    ] + [DeliverableSize(path="tests/test_new.py", action="create")]
    est = estimate(EstimateInput(deliverables=rows), params)
    module, test, prose, created = est.deliverables
    # The point estimate ignores the kind: three modified files of one size, one estimate.
    assert module.edit_tokens == test.edit_tokens == prose.edit_tokens
    size_term = params.edit_size_coefficient * 900**params.edit_size_exponent
    per_file = module.edit_tokens - size_term
    assert module.edit_reserve_tokens == module.edit_tokens  # a Python module weighs 1
    assert test.edit_reserve_tokens == pytest.approx(3.0 * per_file + size_term, abs=2)
    assert prose.edit_reserve_tokens == pytest.approx(0.5 * per_file + size_term, abs=2)
    # A created file is written whole: its room is its size, in either format.
    assert created.edit_reserve_tokens == created.edit_tokens == created.full_file_tokens
    assert test.room_for("edit") == test.edit_reserve_tokens
    assert test.room_for("whole") == test.full_file_tokens
