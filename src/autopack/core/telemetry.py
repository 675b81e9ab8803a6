"""Token telemetry (pure): per request and per phase, estimated vs actual output tokens, requests,
continuations, repairs, input/output/cache tokens, USD cost from the model table, wall time of the
build, the size of the phase's first request by section (context tokens); and the test gates' cost
per phase (test-suite runs, tests executed, test wall time, baseline cache hit or miss). Wall times
are measured at the edges (the model adapter, the executor's clock, the test runner) and passed in.
Written as `telemetry.json` to the output folder and rendered as a Markdown table for the summary."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.build import BuildOutcome, RequestRecord
from autopack.core.gates.decision import GateCost
from autopack.core.modeltable import ModelInfo
from autopack.core.usage import Usage

PLAN_PHASE = "(plan)"


class RequestTelemetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str
    max_tokens: int
    stop_reason: str
    usage: Usage
    cost_usd: float
    uncached_cost_usd: float | None = Field(
        default=None, description="The same request with no prompt caching (all input at 1x)"
    )
    estimated_output_tokens: int | None = None
    wall_s: float | None = None
    ops_received: int = 0
    malformed_lines: int = 0
    error: str = ""


class PhaseTelemetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phase_id: str
    status: str = ""
    estimated_output_tokens: int | None = Field(
        default=None, description="From the budget policy, when it gave one"
    )
    requests: list[RequestTelemetry] = Field(default_factory=list)
    continuations: int = 0
    repairs: int = 0
    wall_s: float | None = Field(default=None, description="The build's wall time (no gates)")
    context_tokens: dict[str, int] = Field(
        default_factory=dict,
        description="The first request by section, in tokens (chars / 3.6): system (of which "
        "instructions, repo_map) and prompt (of which deliverables, related)",
    )
    test_runs: int = Field(default=0, description="Test-suite runs of the gates")
    tests_executed: int = 0
    test_wall_s: float = 0.0
    baseline_cache: str = Field(default="", description="hit, miss, or empty without tests")

    @property
    def usage(self) -> Usage:
        return Usage.total(r.usage for r in self.requests)

    @property
    def context_total(self) -> int | None:
        """Tokens of the first request (system prompt and phase prompt), when recorded."""
        c = self.context_tokens
        return c["system"] + c["prompt"] if "system" in c and "prompt" in c else None

    @property
    def cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.requests)

    @property
    def cache_saving_usd(self) -> float:
        """What prompt caching saved (negative: cost) versus sending the same requests uncached."""
        return sum(
            r.uncached_cost_usd - r.cost_usd
            for r in self.requests
            if r.uncached_cost_usd is not None
        )

    @property
    def estimate_error(self) -> float | None:
        """Actual / estimated output tokens (1.0 = exact), when there is an estimate."""
        if not self.estimated_output_tokens:
            return None
        return self.usage.output_tokens / self.estimated_output_tokens


class RunTelemetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = ""
    model: str = ""
    phases: list[PhaseTelemetry] = Field(default_factory=list)

    @property
    def usage(self) -> Usage:
        return Usage.total(p.usage for p in self.phases)

    @property
    def cost_usd(self) -> float:
        return sum(p.cost_usd for p in self.phases)

    @property
    def request_count(self) -> int:
        return sum(len(p.requests) for p in self.phases)

    @property
    def cache_saving_usd(self) -> float:
        return sum(p.cache_saving_usd for p in self.phases)

    def add(self, phase: PhaseTelemetry) -> PhaseTelemetry:
        """Add one phase's telemetry. A phase built again (a resume rebuilding a failed phase)
        adds to its row: every request the run sent stays counted (and in the cost budget's
        spend); status, estimate and context are the latest attempt's."""
        old = next((p for p in self.phases if p.phase_id == phase.phase_id), None)
        if old is not None:
            phase.requests = [*old.requests, *phase.requests]
            phase.continuations += old.continuations
            phase.repairs += old.repairs
            walls = [w for w in (old.wall_s, phase.wall_s) if w is not None]
            phase.wall_s = round(sum(walls), 3) if walls else None
            phase.test_runs += old.test_runs
            phase.tests_executed += old.tests_executed
            phase.test_wall_s += old.test_wall_s
        self.phases = [p for p in self.phases if p.phase_id != phase.phase_id] + [phase]
        return phase

    @classmethod
    def from_json(cls, text: str) -> RunTelemetry:
        """Read what `to_json` wrote (its computed totals are dropped: they are recomputed)."""
        data = json.loads(text)
        data.pop("totals", None)
        for row in data.get("phases", []):
            row.pop("totals", None)
        return cls.model_validate(data)

    def add_gate_cost(self, phase_id: str, cost: GateCost) -> None:
        """The test gates' cost of a phase (a phase applied without a build gets a row)."""
        row = next((p for p in self.phases if p.phase_id == phase_id), None)
        if row is None:
            row = self.add(PhaseTelemetry(phase_id=phase_id))
        row.test_runs += cost.suite_runs
        row.tests_executed += cost.tests_executed
        row.test_wall_s = round(row.test_wall_s + cost.test_wall_s, 3)
        row.baseline_cache = cost.baseline_cache or row.baseline_cache

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        for row, phase in zip(data["phases"], self.phases, strict=True):
            row["totals"] = {
                **phase.usage.model_dump(),
                "requests": len(phase.requests),
                "cost_usd": round(phase.cost_usd, 6),
                "cache_saving_usd": round(phase.cache_saving_usd, 6),
            }
        data["totals"] = {
            **self.usage.model_dump(),
            "requests": self.request_count,
            "continuations": sum(p.continuations for p in self.phases),
            "repairs": sum(p.repairs for p in self.phases),
            "cost_usd": round(self.cost_usd, 6),
            "cache_saving_usd": round(self.cache_saving_usd, 6),
            "test_runs": sum(p.test_runs for p in self.phases),
            "tests_executed": sum(p.tests_executed for p in self.phases),
            "test_wall_s": round(sum(p.test_wall_s for p in self.phases), 3),
            "baseline_cache_hits": sum(p.baseline_cache == "hit" for p in self.phases),
            "baseline_cache_misses": sum(p.baseline_cache == "miss" for p in self.phases),
        }
        return json.dumps(data, indent=2) + "\n"


def uncached(usage: Usage) -> Usage:
    """The same usage with every input token billed as plain input (no prompt caching)."""
    every = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
    return Usage(input_tokens=every, output_tokens=usage.output_tokens)


def request_telemetry(records: Iterable[RequestRecord], info: ModelInfo) -> list[RequestTelemetry]:
    return [
        RequestTelemetry(
            purpose=r.purpose,
            max_tokens=r.max_tokens,
            stop_reason=r.stop_reason,
            usage=r.usage,
            cost_usd=info.cost_usd(r.usage),
            uncached_cost_usd=info.cost_usd(uncached(r.usage)),
            wall_s=r.elapsed_s,
            ops_received=r.ops_received,
            malformed_lines=r.malformed_lines,
            error=r.error,
        )
        for r in records
    ]


def phase_telemetry(
    phase_id: str,
    outcome: BuildOutcome,
    info: ModelInfo,
    *,
    status: str = "",
    wall_s: float | None = None,
    estimated_output_tokens: int | None = None,
    context_tokens: dict[str, int] | None = None,
) -> PhaseTelemetry:
    return PhaseTelemetry(
        phase_id=phase_id,
        status=status,
        estimated_output_tokens=estimated_output_tokens,
        requests=request_telemetry(outcome.requests, info),
        continuations=outcome.continuations,
        repairs=outcome.repairs,
        wall_s=wall_s,
        context_tokens=dict(context_tokens or {}),
    )


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def render_table(telemetry: RunTelemetry) -> str:
    """A Markdown table: one row per phase and a total row; the test gates' cost at the right."""
    head = (
        "| phase | requests | continuations | repairs | est. output | output | input "
        "| cache write | cache read | cost USD | wall s | context | suite runs | tests | test s "
        "| baseline |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n"
    )
    rows = []
    for p in telemetry.phases:
        u = p.usage
        rows.append(
            f"| `{p.phase_id}` | {len(p.requests)} | {p.continuations} | {p.repairs} "
            f"| {_n(p.estimated_output_tokens)} | {_n(u.output_tokens)} | {_n(u.input_tokens)} "
            f"| {_n(u.cache_creation_input_tokens)} | {_n(u.cache_read_input_tokens)} "
            f"| {p.cost_usd:.4f} | {_s(p.wall_s)} | {_n(p.context_total)} | {p.test_runs} "
            f"| {_n(p.tests_executed)} | {_s(p.test_wall_s)} | {p.baseline_cache} |\n"
        )
    u = telemetry.usage
    phases = telemetry.phases
    walls = [p.wall_s for p in phases if p.wall_s is not None]
    hits = sum(p.baseline_cache == "hit" for p in phases)
    misses = sum(p.baseline_cache == "miss" for p in phases)
    rows.append(
        f"| **total** | {telemetry.request_count} "
        f"| {sum(p.continuations for p in phases)} "
        f"| {sum(p.repairs for p in phases)} | "
        f"| {_n(u.output_tokens)} | {_n(u.input_tokens)} | {_n(u.cache_creation_input_tokens)} "
        f"| {_n(u.cache_read_input_tokens)} | {telemetry.cost_usd:.4f} "
        f"| {_s(sum(walls) if walls else None)} | | {sum(p.test_runs for p in phases)} "
        f"| {_n(sum(p.tests_executed for p in phases))} "
        f"| {_s(sum(p.test_wall_s for p in phases))} | {hits} hit, {misses} miss |\n"
    )
    title = f"Token telemetry ({telemetry.model})" if telemetry.model else "Token telemetry"
    saving = telemetry.cache_saving_usd
    uncached_total = telemetry.cost_usd + saving
    share = f" ({saving / uncached_total:+.1%})" if uncached_total else ""
    note = f"\nPrompt caching saved ${saving:.4f}{share} versus the same requests uncached.\n"
    return f"### {title}\n\n" + head + "".join(rows) + note
