"""Budget-policy benchmark: simulate each bench record as one phase under several policies.

Cost model (`SimConfig`): prices from the model table; a request takes `request_s` plus its output
at `tokens_per_s`; max output `max_output` tokens. A phase's input is a system prompt plus the
files in scope (`before.tokens` of modified/renamed/deleted files): the first request pays the
input price, every later request reads it from cache (x0.1) and pays the input price for the
output kept from earlier requests (the assistant turns it continues from). Only generated tokens
are billed as output; `max_tokens` counts toward "reserved" (rate-limit headroom) only.

What the model "produces" is the ground truth: whole files = `after.tokens` of each produced
file; edit ops = the commit's `diff_tokens`, shared among deliverables by changed lines.

Policies:
- seed static: 8K/12K/16K for 1 / 2-3 / 4+ files (the records carry no complexity, so the seed's
  complexity is derived from the file count); on truncation regenerate from scratch, at most
  `seed_attempts` attempts (the whole failed attempt is wasted).
- seed static + x1.5: the same, escalating max_tokens by 1.5 per retry (capped at max output).
- always max: max_tokens = max output, one attempt (a retry cannot produce more).
- autopack: `plan_budget` with continuation (contract 3): a truncated request keeps its output
  except the partial last line (`partial_line_tokens`), and the next asks for the rest with
  `next_max_tokens`. Run with whole files and with edit ops.
- oracle: knows the exact output; max_tokens = output; one request per `max_output` tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from autopack.adapters.package_data import estimator_params, lookup
from autopack.bench.estimator import BenchRecord
from autopack.core.budget.estimator import estimate
from autopack.core.budget.policy import (
    BudgetPlan,
    BudgetSettings,
    Format,
    next_max_tokens,
    plan_budget,
)
from autopack.core.modeltable import DEFAULT_MODEL, ModelInfo


class SimConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = DEFAULT_MODEL
    max_output: int = 64_000
    system_prompt_tokens: int = 2_000
    request_s: float = 1.5
    tokens_per_s: float = 60.0
    seed_attempts: int = 5
    partial_line_whole: int = 500  # half of a ~120-line chunk
    partial_line_edit: int = 100  # half of a typical edit op
    max_requests: int = 50


class PhaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    cost_usd: float
    requests: int
    failed: bool
    generated: int
    wasted: int
    reserved: int
    latency_s: float


class PolicySummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    format: Format
    cost_usd: float
    cost_vs_oracle: float
    requests_per_phase: float
    failed: int
    wasted_tokens: int
    reserved_per_generated: float
    p50_s: float
    p95_s: float


class _Phase:
    """Accumulates requests of one simulated phase."""

    def __init__(self, info: ModelInfo, cfg: SimConfig, input_tokens: int) -> None:
        self.info, self.cfg, self.input_tokens = info, cfg, input_tokens
        self.cost = self.latency = 0.0
        self.requests = self.generated = self.wasted = self.reserved = 0

    def request(self, max_tokens: int, generated: int, prior_output: int = 0) -> None:
        i = self.info
        if self.requests == 0:
            cost_in = self.input_tokens * i.input_usd_per_mtok
        else:
            cost_in = (
                self.input_tokens * i.cache_read_usd_per_mtok + prior_output * i.input_usd_per_mtok
            )
        self.cost += (cost_in + generated * i.output_usd_per_mtok) / 1_000_000
        self.latency += self.cfg.request_s + generated / self.cfg.tokens_per_s
        self.requests += 1
        self.generated += generated
        self.reserved += max_tokens

    def result(self, failed: bool) -> PhaseResult:
        return PhaseResult(
            cost_usd=self.cost,
            requests=self.requests,
            failed=failed,
            generated=self.generated,
            wasted=self.generated if failed else self.wasted,
            reserved=self.reserved,
            latency_s=self.latency,
        )


def input_tokens(rec: BenchRecord, cfg: SimConfig) -> int:
    files = sum(
        d.before.tokens or 0
        for d in rec.deliverables
        if d.before is not None and d.action != "create"
    )
    return cfg.system_prompt_tokens + files + math.ceil(len(rec.goal) / 3.6)


def true_outputs(rec: BenchRecord, fmt: Format) -> list[int]:
    """What the model produces for each deliverable, in record order."""
    if fmt == "whole":
        return [
            d.after.tokens or 0 if d.after is not None and d.action != "delete" else 0
            for d in rec.deliverables
        ]
    weights = [d.added_lines + d.removed_lines + 1 for d in rec.deliverables]
    total = rec.actual.diff_tokens
    shares = [total * w // sum(weights) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _seed_complexity_budget(rec: BenchRecord) -> int:
    n = len(rec.deliverables)
    return 8192 if n <= 1 else 12288 if n <= 3 else 16384


def sim_regenerate(
    rec: BenchRecord, info: ModelInfo, cfg: SimConfig, start: int, factor: float, attempts: int
) -> PhaseResult:
    """A seed policy: the whole output in one response, regenerated from scratch if cut off."""
    phase = _Phase(info, cfg, input_tokens(rec, cfg))
    total = sum(true_outputs(rec, "whole"))
    max_tokens = min(start, cfg.max_output)
    for _ in range(attempts):
        if total <= max_tokens:
            phase.request(max_tokens, total)
            return phase.result(failed=False)
        phase.request(max_tokens, max_tokens)
        phase.wasted += max_tokens
        max_tokens = min(cfg.max_output, math.ceil(max_tokens * factor))
    return phase.result(failed=True)


def _request_outputs(plan: BudgetPlan, paths: Sequence[str], outputs: Sequence[int]) -> list[int]:
    by_path: dict[str, int] = {}
    for p, o in zip(paths, outputs, strict=True):
        by_path[p] = by_path.get(p, 0) + o
    out = []
    for r in plan.requests:
        out.append(sum(by_path.get(p, 0) for p in r.paths) // r.parts)
    return out


def sim_autopack(
    rec: BenchRecord, info: ModelInfo, cfg: SimConfig, fmt: Format, settings: BudgetSettings
) -> PhaseResult:
    s = settings.model_copy(update={"prefer_edit": fmt == "edit"})
    plan = plan_budget(estimate(rec.to_input(), estimator_params()), info, s)
    phase = _Phase(info, cfg, input_tokens(rec, cfg))
    truth = true_outputs(rec, plan.format)
    partial = cfg.partial_line_edit if plan.format == "edit" else cfg.partial_line_whole
    outputs = _request_outputs(plan, [d.path for d in rec.deliverables], truth)
    outputs[-1] += sum(truth) - sum(outputs)  # rounding of split parts
    kept = 0
    for planned, remaining in zip(plan.requests, outputs, strict=True):
        max_tokens = planned.max_tokens
        while True:
            if phase.requests >= cfg.max_requests:
                return phase.result(failed=True)
            generated = min(remaining, max_tokens)
            phase.request(max_tokens, generated, prior_output=kept)
            if remaining <= max_tokens:
                kept += generated
                break
            lost = min(partial, generated)
            phase.wasted += lost
            kept += generated - lost
            remaining -= generated - lost
            max_tokens = next_max_tokens(plan, max_tokens, info, s)
    return phase.result(failed=False)


def sim_oracle(rec: BenchRecord, info: ModelInfo, cfg: SimConfig, fmt: Format) -> PhaseResult:
    phase = _Phase(info, cfg, input_tokens(rec, cfg))
    remaining = sum(true_outputs(rec, fmt))
    kept = 0
    while True:
        generated = min(remaining, cfg.max_output)
        phase.request(max(1, generated), generated, prior_output=kept)
        kept += generated
        remaining -= generated
        if remaining <= 0:
            return phase.result(failed=False)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(
    name: str, fmt: Format, results: Sequence[PhaseResult], oracle_cost: float
) -> PolicySummary:
    generated = sum(r.generated for r in results)
    cost = sum(r.cost_usd for r in results)
    latencies = [r.latency_s for r in results]
    return PolicySummary(
        name=name,
        format=fmt,
        cost_usd=cost,
        cost_vs_oracle=cost / oracle_cost if oracle_cost else 0.0,
        requests_per_phase=sum(r.requests for r in results) / len(results) if results else 0.0,
        failed=sum(r.failed for r in results),
        wasted_tokens=sum(r.wasted for r in results),
        reserved_per_generated=sum(r.reserved for r in results) / generated if generated else 0.0,
        p50_s=_percentile(latencies, 0.5),
        p95_s=_percentile(latencies, 0.95),
    )


def bench_policy(
    records: Sequence[BenchRecord],
    cfg: SimConfig | None = None,
    settings: BudgetSettings | None = None,
) -> list[PolicySummary]:
    c = cfg or SimConfig()
    s = settings or BudgetSettings()
    info = lookup(c.model).model_copy(update={"max_output_tokens": c.max_output})
    policies: list[tuple[str, Format, Callable[[BenchRecord], PhaseResult]]] = [
        ("seed static + regenerate", "whole", lambda r: sim_regenerate(
            r, info, c, _seed_complexity_budget(r), 1.0, c.seed_attempts)),
        ("seed static x1.5 + regenerate", "whole", lambda r: sim_regenerate(
            r, info, c, _seed_complexity_budget(r), 1.5, c.seed_attempts)),
        ("always max output", "whole", lambda r: sim_regenerate(r, info, c, c.max_output, 1.0, 1)),
        ("autopack + continuation", "whole", lambda r: sim_autopack(r, info, c, "whole", s)),
        ("autopack + continuation", "edit", lambda r: sim_autopack(r, info, c, "edit", s)),
        ("oracle", "whole", lambda r: sim_oracle(r, info, c, "whole")),
        ("oracle", "edit", lambda r: sim_oracle(r, info, c, "edit")),
    ]  # fmt: skip
    oracle = {
        f: sum(sim_oracle(r, info, c, f).cost_usd for r in records) for f in ("whole", "edit")
    }
    return [
        summarise(name, fmt, [fn(r) for r in records], oracle[fmt]) for name, fmt, fn in policies
    ]


def render_policy_table(rows: Sequence[PolicySummary], n: int) -> str:
    head = (
        f"{'policy (' + str(n) + ' phases)':<30} {'format':<6} {'cost $':>8} {'vs oracle':>9} "
        f"{'req/phase':>9} {'failed':>6} {'wasted tok':>11} {'reserved/gen':>12} "
        f"{'p50 s':>7} {'p95 s':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<30} {r.format:<6} {r.cost_usd:>8.2f} {r.cost_vs_oracle:>8.3f}x "
            f"{r.requests_per_phase:>9.3f} {r.failed:>6} {r.wasted_tokens:>11,} "
            f"{r.reserved_per_generated:>12.2f} {r.p50_s:>7.1f} {r.p95_s:>7.1f}"
        )
    return "\n".join(lines)
