"""Records of `shared/bench/*.jsonl` and the estimator benchmark.

Two record models: `EstimateRecord` holds only what an estimator may read (id, repo, goal, each
deliverable's path/action/old_path/before); every other field of a line is ignored, so an
estimate can never see ground truth. `BenchRecord` adds the ground truth the benchmark scores
against (`after`, `added_lines`, `removed_lines`, `actual`).

Baselines (bench/README.md): the seed's fixed 12,288 ("medium"), the seed's deliverable-weight
formula (a reconstruction -- the seed never published its constants: 1,600 tokens per modified
file, 2,000 per created one, x1.5 for test files, x1.3 safety), and the sum of `before.tokens`
(+600 per created file). A baseline's max_tokens is its estimate; ours is the budget plan's
(all its planned requests).

Ours runs twice: with the records' token counts (what a run knows when it can count tokens) and on
the live path, with `before.tokens` dropped (what a run knows offline: lines and chars). "before
#15" is the estimator and policy as they were before issue #15 (one chars/token ratio, 200 tokens
per created file, size-free edits, margin 1.0), measured in the same run.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, NonNegativeInt

from autopack.adapters.package_data import estimator_params, lookup
from autopack.core.budget.estimator import (
    Action,
    DeliverableSize,
    EstimateInput,
    EstimatorParams,
    estimate,
)
from autopack.core.budget.policy import BudgetSettings, plan_budget
from autopack.core.jsonl import LineProblem, parse_jsonl
from autopack.core.modeltable import DEFAULT_MODEL, ModelInfo
from autopack.errors import RecordError


class FileSize(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    lines: NonNegativeInt
    chars: NonNegativeInt
    tokens: NonNegativeInt | None = None


class RecordDeliverable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    path: str
    action: Action
    old_path: str | None = None
    before: FileSize | None = None


class EstimateRecord(BaseModel):
    """The input side of a record: what a run knows before calling the model."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    repo: str = ""
    goal: str = ""
    deliverables: list[RecordDeliverable]

    def to_input(self, *, live: bool = False) -> EstimateInput:
        """The estimator's input; `live` drops token counts (a run that cannot count them)."""
        items = []
        for d in self.deliverables:
            b = d.before
            items.append(
                DeliverableSize(
                    path=d.path,
                    action=d.action,
                    old_path=d.old_path,
                    lines=b.lines if b else None,
                    chars=b.chars if b else None,
                    tokens=b.tokens if b and not live else None,
                )
            )
        return EstimateInput(goal=self.goal, deliverables=items)


class TruthDeliverable(RecordDeliverable):
    after: FileSize | None = None
    added_lines: NonNegativeInt = 0
    removed_lines: NonNegativeInt = 0


class Actual(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    full_file_tokens: NonNegativeInt
    diff_tokens: NonNegativeInt


class BenchRecord(EstimateRecord):
    """A record with its ground truth (for benchmarks only)."""

    deliverables: list[TruthDeliverable]  # type: ignore[assignment]
    actual: Actual


R = TypeVar("R", bound=BaseModel)


def parse_records(text: str, model: type[R], source: str = "<records>") -> list[R]:
    """One record per non-blank line; a bad line raises RecordError naming line and field."""

    def error(p: LineProblem) -> RecordError:
        if p.invalid_json:
            return RecordError(f"{source}:{p.line}: invalid JSON: {p.json_detail}")
        return RecordError(f"{source}:{p.line}: field {p.field or '(record)'}: {p.message}")

    return parse_jsonl(text.splitlines(), model, error)


def load_records(path: str | Path, model: type[R]) -> list[R]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    records = parse_records(text, model, source=str(p))
    if not records:
        raise RecordError(f"{p}: no records (the file is empty or holds only blank lines)")
    return records


# --- predictors: record -> (full_file_tokens, edit_tokens, max_tokens_full, max_tokens_edit) ---

Prediction = tuple[int, int, int, int]


# The estimator and policy constants before issue #15, for a same-run comparison.
BEFORE_PARAMS = EstimatorParams(
    chars_per_token={"other": 3.6},
    tokens_per_line=8.7,
    modify_growth=1.0,
    create_tokens={"other": 200},
    edit_tokens_per_file=200,
    edit_scope_exponent=0.2,
    delete_op_tokens=20,
    rename_op_tokens=30,
)
BEFORE_SETTINGS = BudgetSettings(margin_edit=1.0, pad_tokens=1536, edit_tail_coefficient=0.0)


def predict_ours(
    rec: EstimateRecord,
    model: ModelInfo,
    settings: BudgetSettings,
    params: EstimatorParams | None = None,
    *,
    live: bool = False,
) -> Prediction:
    est = estimate(rec.to_input(live=live), params or estimator_params())
    whole = plan_budget(est, model, settings.model_copy(update={"prefer_edit": False}))
    edit = plan_budget(est, model, settings)
    return est.full_file_tokens, est.edit_tokens, whole.reserved_tokens, edit.reserved_tokens


def predict_fixed(rec: EstimateRecord) -> Prediction:
    return 12288, 12288, 12288, 12288


def predict_seed_formula(rec: EstimateRecord) -> Prediction:
    weights = {"modify": 1600, "create": 2000, "delete": 100, "rename": 200}
    total = 0.0
    for d in rec.deliverables:
        w = float(weights[d.action])
        total += w * 1.5 if "test" in d.path.lower() else w
    n = round(total * 1.3)
    return n, n, n, n


def predict_sum_before(rec: EstimateRecord) -> Prediction:
    n = 0
    for d in rec.deliverables:
        if d.action == "create":
            n += 600
        elif d.action != "delete" and d.before is not None:
            n += d.before.tokens or 0
    return n, n, n, n


class Score(BaseModel):
    model_config = ConfigDict(frozen=True)

    median_ape: float
    within_20: float
    under_max_tokens: float
    reserved_per_generated: float = 0.0


def score(pred: Sequence[int], maxes: Sequence[int], actual: Sequence[int]) -> Score:
    """Median |p - a| / a and share within +/-20% over records with a > 0; share of all records
    whose max_tokens is below the actual output; all max_tokens over all actual output."""
    pairs = [(p, a) for p, a in zip(pred, actual, strict=True) if a > 0]
    apes = [abs(p - a) / a for p, a in pairs]
    return Score(
        median_ape=statistics.median(apes) if apes else 0.0,
        within_20=sum(x <= 0.2 for x in apes) / len(apes) if apes else 0.0,
        under_max_tokens=sum(m < a for m, a in zip(maxes, actual, strict=True)) / len(actual)
        if actual
        else 0.0,
        reserved_per_generated=sum(maxes) / sum(actual) if sum(actual) else 0.0,
    )


def bench_estimator(
    records: Sequence[BenchRecord],
    model: ModelInfo | None = None,
    settings: BudgetSettings | None = None,
) -> dict[str, tuple[Score, Score]]:
    """Per estimator: (full-file score, edit score), ours first."""
    m = model or lookup(DEFAULT_MODEL)
    s = settings or BudgetSettings()
    predictors: dict[str, Callable[[EstimateRecord], Prediction]] = {
        "autopack": lambda r: predict_ours(r, m, s),
        "autopack (live: no tokens)": lambda r: predict_ours(r, m, s, live=True),
        "before #15": lambda r: predict_ours(r, m, BEFORE_SETTINGS, BEFORE_PARAMS),
        "before #15 (live)": lambda r: predict_ours(
            r, m, BEFORE_SETTINGS, BEFORE_PARAMS, live=True
        ),
        "seed fixed 12,288": predict_fixed,
        "seed deliverable weights": predict_seed_formula,
        "sum of before.tokens": predict_sum_before,
    }
    full = [r.actual.full_file_tokens for r in records]
    diff = [r.actual.diff_tokens for r in records]
    out: dict[str, tuple[Score, Score]] = {}
    for name, fn in predictors.items():
        preds = [fn(r) for r in records]
        out[name] = (
            score([p[0] for p in preds], [p[2] for p in preds], full),
            score([p[1] for p in preds], [p[3] for p in preds], diff),
        )
    return out


def render_estimator_table(results: dict[str, tuple[Score, Score]], n: int) -> str:
    def pct(x: float) -> str:
        return f"{x * 100:,.0f}%" if x >= 0.1 else f"{x * 100:.1f}%"

    head = (
        f"{'estimator (' + str(n) + ' records)':<28} | {'full: med err':>13} {'±20%':>6} "
        f"{'max<act':>7} {'res/gen':>7} | {'edit: med err':>13} {'±20%':>6} {'max<act':>7} "
        f"{'res/gen':>7}"
    )
    lines = [head, "-" * len(head)]
    for name, (f, e) in results.items():
        lines.append(
            f"{name:<28} | {pct(f.median_ape):>13} {pct(f.within_20):>6} "
            f"{pct(f.under_max_tokens):>7} {f.reserved_per_generated:>7.2f} | "
            f"{pct(e.median_ape):>13} {pct(e.within_20):>6} {pct(e.under_max_tokens):>7} "
            f"{e.reserved_per_generated:>7.2f}"
        )
    return "\n".join(lines)
