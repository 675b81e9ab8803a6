"""Budget-policy benchmark: simulate each bench record as one phase under several policies.

Cost model (`SimConfig`): prices from the model table; a request takes `request_s` plus its output
at `tokens_per_s`; max output `max_output` tokens. A phase's input is the system prompt (with the
repo-wide context: shared by the phases of a run, `phases_per_run` consecutive records of a repo)
plus the phase prompt (the goal and `before.tokens` of the files in scope); each later request adds
the kept output and a short user turn. Input is priced as the adapter sends it (bench/conversation:
Anthropic's cache accounting of the breakpoints placed). Only generated tokens are billed as output;
`max_tokens` counts toward "reserved" (rate-limit headroom) only.

What the model "produces" is the ground truth: whole files = `after.tokens` of each produced
file; edit ops = the commit's `diff_tokens`, shared among deliverables by changed lines.

Policies:
- seed static: 8K/12K/16K for 1 / 2-3 / 4+ files (the records carry no complexity, so the seed's
  complexity is derived from the file count); on truncation regenerate from scratch, at most
  `seed_attempts` attempts (the whole failed attempt is wasted). No caching.
- seed static + x1.5: the same, escalating max_tokens by 1.5 per retry (capped at max output).
- always max: max_tokens = max output, one attempt (a retry cannot produce more).
- before #15: the estimator and policy before issue #15 (one chars/token ratio, margin 1.0,
  max_tokens x2 after a cut), breakpoints on the system prompt and first user message of every
  request, deliverables in spec order, no batches.
- autopack: today's estimator, policy and caching: the deliverables in dependency order, batches
  when needed (each batch a turn of the same conversation), a truncated request keeps its output
  except the partial last line (`partial_line_*`), the next asks for the model's max output.
  "live" estimates from lines and chars only (no token counts), as a run does offline.
- oracle: one request with exactly the true output and no caching.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from autopack.adapters.package_data import estimator_params, lookup
from autopack.bench.conversation import (
    BATCH_PROMPT_TOKENS,
    CONTINUE_PROMPT_TOKENS,
    CacheSim,
    Conversation,
    Placement,
)
from autopack.bench.estimator import BEFORE_PARAMS, BEFORE_SETTINGS, BenchRecord
from autopack.bench.policy_table import PolicySummary, render_policy_table, summarise
from autopack.core.budget.batching import split
from autopack.core.budget.caching import CacheContext
from autopack.core.budget.deps import Item, order
from autopack.core.budget.estimator import Estimate, EstimatorParams, estimate
from autopack.core.budget.phase import subset_estimate
from autopack.core.budget.policy import (
    BudgetSettings,
    Format,
    choose_format,
    output_cap,
    plan_budget,
    request_capacity,
)
from autopack.core.modeltable import DEFAULT_MODEL, ModelInfo

__all__ = ["PhaseResult", "PolicySummary", "SimConfig", "bench_policy", "render_policy_table"]


class SimConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = DEFAULT_MODEL
    max_output: int = 64_000
    system_prompt_tokens: int = 2_000
    phases_per_run: int = 4
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
    batches: int = 1


class Variant(BaseModel):
    """How autopack is run: its constants, after-cut rule, caching, ordering, sizes."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    params: EstimatorParams
    settings: BudgetSettings
    placement: Placement = "pays"
    double_after_cut: bool = False
    batches: bool = True
    live: bool = False


def prompt_tokens(rec: BenchRecord) -> int:
    files = sum(
        d.before.tokens or 0
        for d in rec.deliverables
        if d.before is not None and d.action != "create"
    )
    return files + math.ceil(len(rec.goal) / 3.6)


def true_outputs(rec: BenchRecord, fmt: Format) -> dict[str, int]:
    """What the model produces for each deliverable."""
    if fmt == "whole":
        return {
            d.path: (d.after.tokens or 0) if d.after is not None and d.action != "delete" else 0
            for d in rec.deliverables
        }
    weights = [d.added_lines + d.removed_lines + 1 for d in rec.deliverables]
    total = rec.actual.diff_tokens
    shares = [total * w // sum(weights) for w in weights]
    shares[-1] += total - sum(shares)
    return {d.path: s for d, s in zip(rec.deliverables, shares, strict=True)}


class SimRun:
    """Shared state of the simulated runs: one prompt cache per run of `phases_per_run`."""

    def __init__(self, info: ModelInfo, cfg: SimConfig) -> None:
        self.info, self.cfg = info, cfg
        self.caches: dict[tuple[str, int], CacheSim] = {}
        self.seen: dict[str, int] = {}

    def conversation(self, rec: BenchRecord, placement: Placement, tag: str) -> Conversation:
        n = self.seen.get(rec.repo + tag, 0)
        self.seen[rec.repo + tag] = n + 1
        key = (rec.repo + tag, n // self.cfg.phases_per_run)
        cache = self.caches.setdefault(key, CacheSim(self.info.min_cache_tokens))
        later = self.cfg.phases_per_run - 1 - n % self.cfg.phases_per_run
        shared = CacheContext(
            min_tokens=self.info.min_cache_tokens,
            shared_reads=later,
            shared_written=n % self.cfg.phases_per_run > 0,
        )
        return Conversation(
            self.info,
            cache,
            placement,
            run=f"{key}",
            phase=f"{rec.id}{tag}",
            system_tokens=self.cfg.system_prompt_tokens,
            prompt_tokens=prompt_tokens(rec),
            shared=shared,
        )


def _layout(rec: BenchRecord, est: Estimate, fmt: Format, cap: int, v: Variant) -> list[list[str]]:
    paths = [d.path for d in rec.deliverables]
    if not v.batches:
        return [paths]
    items = [Item(path=d.path, action=d.action) for d in rec.deliverables]
    sizes = {r.path: r.room_for(fmt) for r in est.deliverables}
    return split(order(items), sizes, request_capacity(cap, fmt, v.settings))


class _Tally:
    """What a simulated phase generated, wasted, reserved and waited."""

    def __init__(self) -> None:
        self.generated = self.wasted = self.reserved = 0
        self.latency = 0.0

    def result(self, conv: Conversation, failed: bool, batches: int = 1) -> PhaseResult:
        return PhaseResult(
            cost_usd=conv.cost,
            requests=conv.requests,
            failed=failed,
            generated=self.generated,
            wasted=self.generated if failed else self.wasted,
            reserved=self.reserved,
            latency_s=self.latency,
            batches=batches,
        )


def _stream(
    conv: Conversation,
    t: _Tally,
    cfg: SimConfig,
    planned: list[int],
    need: int,
    ctx: tuple[int, int, int, bool],
) -> int | None:
    """One batch: requests until `need` tokens are out; returns the last output, or None when the
    request limit is hit. `ctx`: (later batches, partial line, cap, double after a cut)."""
    later_batches, partial, cap, double = ctx
    n, max_tokens = 0, planned[0]
    while conv.requests < cfg.max_requests:
        out = min(need, max_tokens)
        later = max(0, len(planned) - 1 - n) + later_batches
        conv.request(
            out, planned_after=later, unplanned=n >= len(planned), at_max=max_tokens >= cap
        )
        t.generated, t.reserved = t.generated + out, t.reserved + max_tokens
        t.latency += cfg.request_s + out / cfg.tokens_per_s
        if need <= max_tokens:
            return out
        lost = min(partial, out)
        t.wasted += lost
        need -= out - lost
        conv.turn(out - lost, CONTINUE_PROMPT_TOKENS)
        n += 1
        after_cut = min(cap, max_tokens * 2) if double else cap
        max_tokens = planned[n] if n < len(planned) else after_cut
    return None


def sim_autopack(
    rec: BenchRecord, run: SimRun, fmt: Format, v: Variant, tag: str = ""
) -> PhaseResult:
    """A phase under the autopack policy `v`: batches, planned requests, continuation."""
    info, cfg = run.info, run.cfg
    s = v.settings.model_copy(update={"prefer_edit": fmt == "edit"})
    est = estimate(rec.to_input(live=v.live), v.params)
    fmt = choose_format(est, s)
    cap = output_cap(info)
    batches = _layout(rec, est, fmt, cap, v)
    truth = true_outputs(rec, fmt)
    partial = cfg.partial_line_edit if fmt == "edit" else cfg.partial_line_whole
    conv, tally = run.conversation(rec, v.placement, tag), _Tally()
    for b, paths in enumerate(batches):
        plan = plan_budget(subset_estimate(est, paths), info, s, fmt=fmt)
        need = sum(truth.get(p, 0) for p in paths)
        ctx = (len(batches) - 1 - b, partial, cap, v.double_after_cut)
        out = _stream(conv, tally, cfg, [r.max_tokens for r in plan.requests], need, ctx)
        if out is None:
            return tally.result(conv, True, len(batches))
        if b + 1 < len(batches):
            conv.turn(out, BATCH_PROMPT_TOKENS + 10 * len(batches[b + 1]))
    return tally.result(conv, False, len(batches))


def sim_regenerate(
    rec: BenchRecord, run: SimRun, start: int, factor: float, attempts: int
) -> PhaseResult:
    """A seed policy: the whole output in one response, regenerated from scratch if cut off."""
    cfg = run.cfg
    conv, t = run.conversation(rec, "none", ":seed"), _Tally()
    total = sum(true_outputs(rec, "whole").values())
    max_tokens = min(start, cfg.max_output)
    for _ in range(attempts):
        out = min(total, max_tokens)
        conv.request(out)
        t.generated, t.reserved = t.generated + out, t.reserved + max_tokens
        t.latency += cfg.request_s + out / cfg.tokens_per_s
        if total <= max_tokens:
            return t.result(conv, False)
        t.wasted += max_tokens
        max_tokens = min(cfg.max_output, math.ceil(max_tokens * factor))
    return t.result(conv, True)


def sim_oracle(rec: BenchRecord, run: SimRun, fmt: Format) -> PhaseResult:
    """One request with exactly the true output, no caching."""
    conv, t = run.conversation(rec, "none", ":oracle"), _Tally()
    out = sum(true_outputs(rec, fmt).values())
    conv.request(out)
    t.generated, t.reserved = out, max(1, out)
    t.latency = run.cfg.request_s + out / run.cfg.tokens_per_s
    return t.result(conv, False)


def _seed_complexity_budget(rec: BenchRecord) -> int:
    n = len(rec.deliverables)
    return 8192 if n <= 1 else 12288 if n <= 3 else 16384


def variants(settings: BudgetSettings) -> dict[str, Variant]:
    params = estimator_params()
    return {
        "before #15": Variant(
            params=BEFORE_PARAMS, settings=BEFORE_SETTINGS, placement="today",
            double_after_cut=True, batches=False,
        ),
        "autopack": Variant(params=params, settings=settings),
        "autopack (live: no tokens)": Variant(params=params, settings=settings, live=True),
    }  # fmt: skip


def bench_policy(
    records: Sequence[BenchRecord],
    cfg: SimConfig | None = None,
    settings: BudgetSettings | None = None,
) -> list[PolicySummary]:
    c = cfg or SimConfig()
    info = lookup(c.model).model_copy(update={"max_output_tokens": c.max_output})
    run = SimRun(info, c)
    oracle = {f: sum(sim_oracle(r, run, f).cost_usd for r in records) for f in ("whole", "edit")}
    policies: list[tuple[str, Format, Callable[[BenchRecord], PhaseResult]]] = [
        ("seed static + regenerate", "whole",
         lambda r: sim_regenerate(r, run, _seed_complexity_budget(r), 1.0, c.seed_attempts)),
        ("seed static x1.5 + regenerate", "whole",
         lambda r: sim_regenerate(r, run, _seed_complexity_budget(r), 1.5, c.seed_attempts)),
        ("always max output", "whole", lambda r: sim_regenerate(r, run, c.max_output, 1.0, 1)),
    ]  # fmt: skip
    for name, v in variants(settings or BudgetSettings()).items():
        for fmt in ("whole", "edit"):
            policies.append((name, fmt, _bind(run, fmt, v, f":{name}:{fmt}")))
    policies += [("oracle", f, _oracle(run, f)) for f in ("whole", "edit")]
    return [
        summarise(name, fmt, [fn(r) for r in records], oracle[fmt]) for name, fmt, fn in policies
    ]


def _bind(run: SimRun, fmt: Format, v: Variant, tag: str) -> Callable[[BenchRecord], PhaseResult]:
    return lambda r: sim_autopack(r, run, fmt, v, tag)


def _oracle(run: SimRun, fmt: Format) -> Callable[[BenchRecord], PhaseResult]:
    return lambda r: sim_oracle(r, run, fmt)


def cache_saving(
    records: Sequence[BenchRecord], cfg: SimConfig | None = None
) -> dict[tuple[Format, Placement], float]:
    """Cost of today's autopack policy under each cache placement, on the same requests."""
    c = cfg or SimConfig()
    info = lookup(c.model).model_copy(update={"max_output_tokens": c.max_output})
    run = SimRun(info, c)
    base = variants(BudgetSettings())["autopack"]
    out: dict[tuple[Format, Placement], float] = {}
    for fmt in ("whole", "edit"):
        for placement in ("pays", "today", "none"):
            v = base.model_copy(update={"placement": placement})
            tag = f":cache:{fmt}:{placement}"
            out[(fmt, placement)] = sum(sim_autopack(r, run, fmt, v, tag).cost_usd for r in records)
    return out
