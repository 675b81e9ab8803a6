"""The policy benchmark's summary rows and table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from autopack.core.budget.policy import Format

Placement = Literal["pays", "today", "none"]


class Result(Protocol):
    @property
    def cost_usd(self) -> float: ...
    @property
    def requests(self) -> int: ...
    @property
    def failed(self) -> bool: ...
    @property
    def generated(self) -> int: ...
    @property
    def wasted(self) -> int: ...
    @property
    def reserved(self) -> int: ...
    @property
    def latency_s(self) -> float: ...
    @property
    def batches(self) -> int: ...


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
    batched: int = 0  # phases split into more than one batch


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(
    name: str, fmt: Format, results: Sequence[Result], oracle_cost: float
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
        batched=sum(r.batches > 1 for r in results),
    )


def render_policy_table(rows: Sequence[PolicySummary], n: int) -> str:
    head = (
        f"{'policy (' + str(n) + ' phases)':<30} {'format':<6} {'cost $':>8} {'vs oracle':>9} "
        f"{'req/phase':>9} {'failed':>6} {'wasted tok':>11} {'reserved/gen':>12} "
        f"{'p50 s':>7} {'p95 s':>7} {'batched':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<30} {r.format:<6} {r.cost_usd:>8.2f} {r.cost_vs_oracle:>8.3f}x "
            f"{r.requests_per_phase:>9.3f} {r.failed:>6} {r.wasted_tokens:>11,} "
            f"{r.reserved_per_generated:>12.2f} {r.p50_s:>7.1f} {r.p95_s:>7.1f} {r.batched:>7}"
        )
    return "\n".join(lines)


def render_cache_lines(costs: Mapping[tuple[Format, Placement], float]) -> str:
    """The cost of the same requests under each cache placement, and what ours saves."""
    lines = ["Prompt caching (autopack's requests, priced as sent):"]
    for fmt in ("whole", "edit"):
        pays, today, none = (costs[(fmt, p)] for p in ("pays", "today", "none"))
        lines.append(
            f"  {fmt:<5}: ours ${pays:.2f}, today's placement ${today:.2f}, no caching "
            f"${none:.2f}: saves {1 - pays / today:+.1%} vs today's, {1 - pays / none:+.1%} "
            f"vs none"
        )
    return "\n".join(lines)
