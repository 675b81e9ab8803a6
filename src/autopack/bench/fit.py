"""Fit the estimator's constants and the edit budget's margins from bench records; check them
leave-one-repo-out.

The shipped constants (`data/estimator.json`, `BudgetSettings` defaults) are `fit_all` on the dev
records, so they can be re-derived (`autopack bench fit`) and checked on repositories the fit never
saw (`autopack bench estimator --held-out`: fit on five repos, score the sixth, pooled). Each step
fits few, readable quantities:

1. chars/token by file kind (`fit_ratios`): log(chars/token) = a[kind] + b * log(chars per line /
   reference), one slope `b` shared by every kind (per-kind slopes fit the dev set better and
   held-out repos worse), weighted by log(1 + tokens) so that large files count more without one
   file dominating. A kind with fewer than `MIN_FILES` files takes its family's intercept ("other",
   every file's).
2. how wide an edit of each kind is (`fit_edit_weights`): the median changed lines of a modified
   file of the kind over the median of a Python module's, shrunk toward 1 by n / (n + 5); a kind
   with fewer than `MIN_FILES` modified files keeps weight 1.
3. `edit_tokens_per_file` (`fit_edit_base`): the value that minimises the median absolute
   percentage error of the edit estimate.
4. the edit budget (`fit_policy`): margin, pad and tail allowance that leave the fewest phases with
   `max_tokens` below their actual output, among those whose reserved:generated stays <= `cap`
   (both with token counts and on the live path; ties go to the lower reserve).

Records are measurements (bench/README.md): fitting reads their ground truth; estimating never does.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from autopack.bench.estimator import BenchRecord, Prediction, Score, predict_ours, score
from autopack.core.budget.estimator import Estimate, EstimatorParams, estimate, file_kind
from autopack.core.budget.policy import BudgetSettings, plan_budget
from autopack.core.modeltable import ModelInfo
from autopack.errors import RecordError

MIN_FILES = 10
RESERVE_CAP = 2.9  # aggregate reserved:generated allowed to the fit (the goal is <= 3)
_FAMILY = {
    "changelog": "prose",
    "requirements": "config",
    "stub": "python",
    "python_test": "python",
}  # a kind not here (python, prose, config, other) falls back to every file's value
MARGINS = (0.3, 0.45, 0.6, 0.8, 1.0)
PADS = (1024, 1280, 1536, 1792, 2048, 2304)
TAILS = (0.0, 5.0, 10.0, 15.0)


class Fit(BaseModel):
    model_config = ConfigDict(frozen=True)

    params: EstimatorParams
    settings: BudgetSettings


def _ratio_kind(path: str) -> str:
    kind = file_kind(path)
    return "python" if kind == "package_init" else kind


def _ratio_samples(records: Sequence[BenchRecord]) -> list[tuple[str, float, float, float]]:
    """(kind, x = log chars/line, y = log chars/token, weight) of every existing file with a count."""
    out = []
    for r in records:
        for d in r.deliverables:
            b = d.before
            if d.action in ("create", "delete") or b is None or not b.tokens or not b.chars:
                continue
            kind = _ratio_kind(d.old_path or d.path)
            x = math.log(max(b.chars / max(b.lines, 1), 1.0))
            out.append((kind, x, math.log(b.chars / b.tokens), math.log1p(b.tokens)))
    return out


def fit_ratios(records: Sequence[BenchRecord], params: EstimatorParams) -> EstimatorParams:
    samples = _ratio_samples(records)
    if not samples:
        return params
    ref = math.log(params.reference_line_chars)
    groups: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for kind, x, y, w in samples:
        groups[kind].append((x - ref, y, w))
    means = {}
    for kind, rows in groups.items():
        sw = sum(w for _, _, w in rows)
        means[kind] = (sum(w * x for x, _, w in rows) / sw, sum(w * y for _, y, w in rows) / sw)
    num = sum(w * (x - means[k][0]) * (y - means[k][1]) for k, g in groups.items() for x, y, w in g)
    den = sum(w * (x - means[k][0]) ** 2 for k, g in groups.items() for x, _, w in g)
    slope = num / den if den else 0.0
    every = [row for g in groups.values() for row in g]
    sw = sum(w for _, _, w in every)
    pooled = sum(w * (y - slope * x) for x, y, w in every) / sw
    ratios: dict[str, float] = {}
    for kind in ("other", "python", "config", "prose", "python_test", "stub", "changelog",
                 "requirements"):  # fmt: skip
        rows = groups.get(kind, [])
        if len(rows) >= MIN_FILES:
            ratios[kind] = means[kind][1] - slope * means[kind][0]
        else:  # too few files of its own: its family's value, else every file's
            ratios[kind] = ratios.get(_FAMILY.get(kind, ""), pooled)
    return params.model_copy(
        update={
            "chars_per_token": {k: round(math.exp(v), 3) for k, v in ratios.items()},
            "line_length_exponent": {k: round(slope, 3) for k in ratios},
        }
    )


def fit_edit_weights(
    records: Sequence[BenchRecord], params: EstimatorParams, power: float = 1.0
) -> EstimatorParams:
    changed: dict[str, list[int]] = defaultdict(list)
    for r in records:
        for d in r.deliverables:
            if d.action == "modify":
                changed[file_kind(d.path)].append(d.added_lines + d.removed_lines)
    if not changed.get("python"):
        return params
    ref = max(statistics.median(changed["python"]), 1.0)
    weights = {}
    for kind, lines in sorted(changed.items()):
        if kind == "python" or len(lines) < MIN_FILES:
            continue  # the reference, or too few files to say (they weigh 1)
        raw = max(statistics.median(lines) / ref, 0.05) ** power
        weights[kind] = round(math.exp(len(lines) / (len(lines) + 5) * math.log(raw)), 2)
    return params.model_copy(update={"edit_reserve_weight": weights})


def _edit_mape(records: Sequence[BenchRecord], params: EstimatorParams) -> float:
    apes = [
        abs(estimate(r.to_input(), params).edit_tokens - r.actual.diff_tokens)
        / r.actual.diff_tokens
        for r in records
        if r.actual.diff_tokens > 0
    ]
    return statistics.median(apes) if apes else 0.0


def fit_edit_base(records: Sequence[BenchRecord], params: EstimatorParams) -> EstimatorParams:
    candidates = [params.model_copy(update={"edit_tokens_per_file": b}) for b in range(60, 305, 5)]
    return min(candidates, key=lambda p: _edit_mape(records, p))


def _reserve(
    ests: Sequence[Estimate], actual: Sequence[int], model: ModelInfo, s: BudgetSettings
) -> tuple[int, float]:
    """(phases whose edit reserve is below the actual output, reserved:generated)."""
    reserved = [plan_budget(e, model, s).reserved_tokens for e in ests]
    below = sum(r < a for r, a in zip(reserved, actual, strict=True))
    return below, sum(reserved) / max(sum(actual), 1)


def fit_policy(
    records: Sequence[BenchRecord],
    params: EstimatorParams,
    settings: BudgetSettings,
    model: ModelInfo,
    cap: float = RESERVE_CAP,
) -> BudgetSettings:
    paths = [[estimate(r.to_input(live=live), params) for r in records] for live in (False, True)]
    actual = [r.actual.diff_tokens for r in records]
    best: tuple[int, float] | None = None
    chosen = settings
    for margin in MARGINS:
        for pad in PADS:
            for tail in TAILS:
                s = settings.model_copy(
                    update={"margin_edit": margin, "pad_tokens": pad, "edit_tail_coefficient": tail}
                )
                scores = [_reserve(ests, actual, model, s) for ests in paths]
                ratio = max(x[1] for x in scores)
                key = (sum(x[0] for x in scores), ratio)
                if ratio <= cap and (best is None or key < best):
                    best, chosen = key, s
    if best is None:
        raise RecordError(f"no edit margins keep reserved:generated <= {cap} on these records")
    return chosen


def fit_all(
    records: Sequence[BenchRecord],
    params: EstimatorParams,
    settings: BudgetSettings,
    model: ModelInfo,
    cap: float = RESERVE_CAP,
) -> Fit:
    p = fit_ratios(records, params)
    p = fit_edit_weights(records, p)
    p = fit_edit_base(records, p)
    return Fit(params=p, settings=fit_policy(records, p, settings, model, cap))


class HeldOut(BaseModel):
    """Leave-one-repo-out scores: each repo scored with constants fitted on the other repos."""

    model_config = ConfigDict(frozen=True)

    pooled: dict[str, tuple[Score, Score]]  # "exact" / "live" -> (full-file, edit)
    per_repo: dict[str, dict[str, tuple[Score, Score]]]  # repo -> the same


def _scores(
    records: Sequence[BenchRecord], fit: Fit, model: ModelInfo
) -> dict[str, list[Prediction]]:
    return {
        name: [predict_ours(r, model, fit.settings, fit.params, live=live) for r in records]
        for name, live in (("exact", False), ("live", True))
    }


def _score_pair(records: Sequence[BenchRecord], preds: Sequence[Prediction]) -> tuple[Score, Score]:
    full = [r.actual.full_file_tokens for r in records]
    diff = [r.actual.diff_tokens for r in records]
    return (
        score([p[0] for p in preds], [p[2] for p in preds], full),
        score([p[1] for p in preds], [p[3] for p in preds], diff),
    )


def held_out(
    records: Sequence[BenchRecord],
    params: EstimatorParams,
    settings: BudgetSettings,
    model: ModelInfo,
    cap: float = RESERVE_CAP,
) -> HeldOut:
    repos = sorted({r.repo for r in records})
    order: list[BenchRecord] = []
    preds: dict[str, list[Prediction]] = {"exact": [], "live": []}
    per_repo = {}
    for repo in repos:
        test = [r for r in records if r.repo == repo]
        fit = fit_all([r for r in records if r.repo != repo], params, settings, model, cap)
        got = _scores(test, fit, model)
        per_repo[repo] = {name: _score_pair(test, p) for name, p in got.items()}
        order.extend(test)
        for name, p in got.items():
            preds[name].extend(p)
    pooled = {name: _score_pair(order, p) for name, p in preds.items()}
    return HeldOut(pooled=pooled, per_repo=per_repo)


FITTED_FIELDS = ("chars_per_token", "line_length_exponent", "edit_tokens_per_file")
FITTED_SETTINGS = ("margin_edit", "pad_tokens", "edit_tail_coefficient")


def fitted_values(fit: Fit) -> dict[str, object]:
    """The values the fit sets (estimator constants, then budget settings)."""
    params = fit.params.model_dump()
    settings = fit.settings.model_dump()
    out: dict[str, object] = {k: params[k] for k in FITTED_FIELDS}
    out["edit_reserve_weight"] = params["edit_reserve_weight"]
    out.update({k: settings[k] for k in FITTED_SETTINGS})
    return out


def differences(fit: Fit, params: EstimatorParams, settings: BudgetSettings) -> list[str]:
    """Names of the fitted values that differ from the given (shipped) ones."""
    shipped = fitted_values(Fit(params=params, settings=settings))
    return [k for k, v in fitted_values(fit).items() if shipped[k] != v]


def held_out_rows(h: HeldOut) -> dict[str, tuple[Score, Score]]:
    """Rows for render_estimator_table: pooled first, then each repo."""
    rows = {f"pooled ({name})": pair for name, pair in h.pooled.items()}
    for repo, by_path in h.per_repo.items():
        for name, pair in by_path.items():
            rows[f"{repo.split('/')[-1][:18]} ({name})"] = pair
    return rows
