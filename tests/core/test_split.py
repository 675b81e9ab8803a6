"""Splitting a planned phase too large for one batch (core/budget/split.py)."""

from __future__ import annotations

from autopack.adapters.package_data import estimator_params, lookup
from autopack.core.budget.split import split_large_phases
from autopack.core.spec import parse_spec


def test_split_parts_of_long_ids_never_share_an_id() -> None:
    # Two 64-character ids differing only in their last character: their parts' ids are cut to
    # fit, and `x...x-1` must not name two phases (the spec is not validated again).
    ids = ["a" * 63 + "x", "a" * 63 + "y"]
    spec = parse_spec(
        {
            "goal": "g",
            "phases": [
                {
                    "id": pid,
                    "title": "Wide",
                    "deliverables": [
                        {"path": f"src/{pid[-1]}{i:02}.py", "action": "create"} for i in range(14)
                    ],
                }
                for pid in ids
            ],
        }
    )
    split = split_large_phases(
        spec, lambda _p: None, lookup("claude-sonnet-4-6"), estimator_params()
    )
    got = [p.id for p in split.phases]
    assert len(got) == len(set(got))
    assert {d.path for p in split.phases for d in p.deliverables} == {
        d.path for p in spec.phases for d in p.deliverables
    }
    parse_spec(split.model_dump(mode="json"))  # still a valid spec
