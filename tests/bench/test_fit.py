"""Tests of the estimator fit (bench/fit.py), its leave-one-repo-out check and `autopack bench fit`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from autopack.adapters.package_data import estimator_params, lookup
from autopack.bench.estimator import BenchRecord, load_records, parse_records, predict_ours
from autopack.bench.fit import (
    Fit,
    differences,
    fit_all,
    fit_edit_base,
    fit_edit_weights,
    fit_policy,
    fit_ratios,
    held_out,
)
from autopack.cli import main
from autopack.core.budget.policy import BudgetSettings
from autopack.errors import RecordError

DEV = Path(__file__).resolve().parents[3] / "shared" / "bench" / "estimator-dev.jsonl"
INFO = lookup("claude-sonnet-4-5")
P = estimator_params()


def _file(
    path: str, tokens: int, chars_per_line: float, ratio: float, changed: int
) -> dict[str, Any]:
    chars = round(tokens * ratio)
    lines = max(1, round(chars / chars_per_line))
    size = {"lines": lines, "chars": chars, "tokens": tokens}
    return {
        "path": path,
        "action": "modify",
        "before": size,
        "after": size,
        "added_lines": changed,
        "removed_lines": 0,
    }


def _rec(rid: str, repo: str, files: list[dict[str, Any]], diff: int) -> dict[str, Any]:
    full = sum(f["after"]["tokens"] for f in files)
    actual = {"full_file_tokens": full, "diff_tokens": diff, "files": len(files)}
    return {"id": rid, "repo": repo, "goal": "g", "deliverables": files, "actual": actual}


def _ratio(base: float, cpl: float) -> float:
    return base * (cpl / 30) ** 0.2  # the truth of the synthetic set: one slope for every kind


def _synthetic(python: dict[str, float] | None = None) -> list[BenchRecord]:
    """Three repos of 12 records; `python` overrides a repo's chars/token of Python modules."""
    recs = []
    for r, repo in enumerate(("o/a", "o/b", "o/c")):
        base = (python or {}).get(repo, 3.8)
        for i in range(12):
            cpl = 18 + 3 * i
            files = [
                _file(f"src/m{i}.py", 800 + 50 * i, cpl, _ratio(base, cpl), 6),
                _file(f"tests/test_m{i}.py", 600, 30, 3.4, 18),
                _file(f"docs/d{i}.md", 500, cpl, _ratio(3.5, cpl), 3),
            ]
            recs.append(_rec(f"{repo}#{i}", repo, files, 300 + 40 * i + 25 * r))
    text = "\n".join(json.dumps(x) for x in recs) + "\n"
    return parse_records(text, BenchRecord)


def test_ratios_recover_each_kind_and_the_shared_line_length_slope() -> None:
    fitted = fit_ratios(_synthetic(), P)
    assert fitted.chars_per_token["python"] == pytest.approx(3.8, rel=0.01)
    assert fitted.line_length_exponent["python"] == pytest.approx(0.2, abs=0.01)
    assert fitted.chars_per_token["python_test"] == pytest.approx(3.4, rel=0.02)
    # Every kind shares the slope; a kind with too few files takes its family's value.
    assert len(set(fitted.line_length_exponent.values())) == 1
    assert fitted.chars_per_token["stub"] == fitted.chars_per_token["python"]
    assert fitted.chars_per_token["changelog"] == fitted.chars_per_token["prose"]


def test_reserve_weights_are_shrunk_ratios_of_median_changed_lines() -> None:
    recs = _synthetic()
    fitted = fit_edit_weights(recs, P)
    n = len(recs)  # one test module and one doc per record
    shrink = n / (n + 5)
    assert fitted.edit_reserve_weight["python_test"] == round(math.exp(shrink * math.log(3)), 2)
    assert fitted.edit_reserve_weight["prose"] == round(math.exp(shrink * math.log(0.5)), 2)
    assert "python" not in fitted.edit_reserve_weight  # the reference weighs 1


def test_the_edit_base_is_the_one_with_the_lowest_median_error() -> None:
    recs = _synthetic()
    best = fit_edit_base(recs, P)

    def mape(per_file: int) -> float:
        p = P.model_copy(update={"edit_tokens_per_file": per_file})
        errs = sorted(abs(predict_ours(r, INFO, BudgetSettings(), p)[1] - r.actual.diff_tokens)
                      / r.actual.diff_tokens for r in recs)  # fmt: skip
        return (errs[len(errs) // 2 - 1] + errs[len(errs) // 2]) / 2

    assert mape(best.edit_tokens_per_file) <= mape(best.edit_tokens_per_file + 40)
    assert mape(best.edit_tokens_per_file) <= mape(max(60, best.edit_tokens_per_file - 40))


def test_policy_margins_respect_the_reserve_cap_or_fail_clearly() -> None:
    recs = _synthetic()
    fitted = fit_policy(recs, P, BudgetSettings(), INFO, cap=8.0)
    reserved = sum(predict_ours(r, INFO, fitted, P)[3] for r in recs)
    assert reserved / sum(r.actual.diff_tokens for r in recs) <= 8.0
    # A loose cap buys fewer phases below their output than a tight one.
    loose = fit_policy(recs, P, BudgetSettings(), INFO, cap=100.0)
    below = [
        sum(predict_ours(r, INFO, s, P)[3] < r.actual.diff_tokens for r in recs)
        for s in (fitted, loose)
    ]
    assert below[1] <= below[0]
    with pytest.raises(RecordError, match=r"reserved:generated <= 0.5"):
        fit_policy(recs, P, BudgetSettings(), INFO, cap=0.5)


def test_held_out_scores_each_repo_with_constants_fitted_on_the_others() -> None:
    recs = _synthetic(python={"o/c": 4.6})  # o/c's Python is far less dense than a's and b's
    h = held_out(recs, P, BudgetSettings(), INFO, cap=8.0)
    assert set(h.per_repo) == {"o/a", "o/b", "o/c"}
    c = [r for r in recs if r.repo == "o/c"]

    def live_error(fit: Fit) -> float:
        preds = [predict_ours(r, INFO, fit.settings, fit.params, live=True)[0] for r in c]
        apes = sorted(abs(p - r.actual.full_file_tokens) / r.actual.full_file_tokens
                      for p, r in zip(preds, c, strict=True))  # fmt: skip
        return (apes[5] + apes[6]) / 2

    others = fit_all([r for r in recs if r.repo != "o/c"], P, BudgetSettings(), INFO, cap=8.0)
    everything = fit_all(recs, P, BudgetSettings(), INFO, cap=8.0)
    scored = h.per_repo["o/c"]["live"][0].median_ape
    assert scored == pytest.approx(live_error(others))
    assert scored > live_error(everything) + 0.02  # fitting on o/c itself would flatter it
    assert len(h.pooled) == 2


def test_bench_fit_prints_the_constants_and_the_held_out_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recs = _synthetic()
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(r.model_dump_json() for r in recs) + "\n", encoding="utf-8")
    assert main(["bench", "fit", "--cases", str(path), "--held-out", "--cap", "8"]) == 0
    out = capsys.readouterr().out
    values = json.loads(out[: out.index("}\nshipped") + 1])
    assert values["line_length_exponent"]["python"] == pytest.approx(0.2, abs=0.01)
    assert "shipped constants: differ in" in out
    assert "pooled (live)" in out and "a (exact)" in out
    one = tmp_path / "one.jsonl"
    one.write_text(
        "\n".join(r.model_dump_json() for r in recs if r.repo == "o/a") + "\n", encoding="utf-8"
    )
    assert main(["bench", "fit", "--cases", str(one), "--held-out", "--cap", "8"]) == 2
    assert "at least two repos" in capsys.readouterr().err
    assert main(["bench", "fit", "--cases", str(one), "--cap", "0.5"]) == 1
    assert "reserved:generated <= 0.5" in capsys.readouterr().err


@pytest.mark.skipif(not DEV.exists(), reason="shared bench data not present")
def test_the_shipped_constants_are_the_fit_on_the_dev_records() -> None:
    recs = load_records(DEV, BenchRecord)
    fit = fit_all(recs, P, BudgetSettings(), INFO)
    assert differences(fit, P, BudgetSettings()) == []
