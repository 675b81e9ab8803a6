"""Budget policy (pure): output format, `max_tokens` per request, and a request plan for a phase.

Facts it respects (DESIGN.md): only generated tokens are billed, so `max_tokens` costs nothing
but rate-limit headroom and runaway bounding; a cut-off response is *continued*, not regenerated
(contract 3), so an under-estimate costs one more request, not the output so far.

- Format: edit ops by default; whole files when every produced file is created or rewritten (or
  when `prefer_edit` is off). Both go through the same NDJSON stream.
- max_tokens = room * (1 + margin) + pad_tokens (+ a tail allowance for edits of large files),
  bounded by the model's max output (and by the context window when the input size is known).
  `room` is the estimate, except in edit format where each modified file's term is weighted by its
  kind (`DeliverableEstimate.room_for`: tests wider, config and prose narrower). The margin is per
  format because the two estimates differ in spread: whole-file estimates are within 5% at p90
  (margin 0.15); edit-op estimates have a long tail, covered by a small margin (0.3), a pad and a
  tail allowance. `pad_tokens` absorbs the small phases where a relative margin is a handful of
  tokens (and created files of unknown size); an edit request also reserves
  `edit_tail_coefficient` x sqrt(tokens) of the largest file it modifies (large edits are in large
  files). The three edit values are fitted (`autopack bench fit`): the fewest phases whose
  max_tokens is below their actual output while reserved:generated stays <= 2.9 on the dev set.
  All of it is free headroom: max_tokens is not billed.
- When the estimate does not fit one response, the deliverables are split up front, in order, into
  requests that each fit; a single file larger than one response spans several requests (parts).
- After a cut (a response that stopped at max_tokens, or a dropped stream) the next request gets
  the model's maximum output (bounded by the context window): max_tokens is not billed, and any
  smaller step only risks another cut, which costs a request and re-sends the conversation.
- When nothing can be estimated (no deliverables, or a modified file without a size), and
  `static_fallback` is on, the seed's static budgets (8K/12K/16K by complexity) apply to the first
  request; with it off the model's max output is used.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from autopack.core.budget.estimator import Estimate
from autopack.core.modeltable import ModelInfo

Format = Literal["edit", "whole"]
Complexity = Literal["low", "medium", "high"]

# The seed's static budgets by phase complexity (fallback only).
SEED_STATIC_BUDGETS: dict[Complexity, int] = {"low": 8192, "medium": 12288, "high": 16384}


class BudgetSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prefer_edit: bool = True
    margin_whole: float = Field(default=0.15, ge=0)
    margin_edit: float = Field(default=0.3, ge=0)
    pad_tokens: NonNegativeInt = 1280
    edit_tail_coefficient: float = Field(default=15.0, ge=0)
    static_fallback: bool = True
    static_budgets: dict[Complexity, PositiveInt] = Field(
        default_factory=lambda: dict(SEED_STATIC_BUDGETS)
    )

    def margin(self, fmt: Format) -> float:
        return self.margin_edit if fmt == "edit" else self.margin_whole


class PlannedRequest(BaseModel):
    """One planned request: the deliverables it must produce (a path may appear in several
    consecutive requests when one file is larger than a response; `part` counts from 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: list[str]
    estimate_tokens: NonNegativeInt
    max_tokens: PositiveInt
    part: PositiveInt = 1
    parts: PositiveInt = 1


class BudgetPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Format
    max_tokens: PositiveInt  # of the first request
    requests: list[PlannedRequest]
    fallback: bool
    estimate: Estimate | None = None
    estimate_tokens: NonNegativeInt | None = None  # for the chosen format; None on fallback

    @property
    def reserved_tokens(self) -> int:
        return sum(r.max_tokens for r in self.requests)


def choose_format(estimate: Estimate | None, settings: BudgetSettings) -> Format:
    if not settings.prefer_edit:
        return "whole"
    if estimate is None:
        return "edit"
    producing = [d for d in estimate.deliverables if d.action != "delete"]
    if producing and all(d.whole for d in producing):
        return "whole"
    return "edit"


def max_tokens_for(
    estimate_tokens: int, fmt: Format, cap: int, settings: BudgetSettings, largest_file: int = 0
) -> int:
    """estimate * (1 + margin) + pad (+ the edit tail of the largest modified file), in [1, cap]."""
    wanted = math.ceil(estimate_tokens * (1 + settings.margin(fmt))) + settings.pad_tokens
    if fmt == "edit":
        wanted += math.ceil(settings.edit_tail_coefficient * math.sqrt(largest_file))
    return max(1, min(cap, wanted))


def output_cap(model: ModelInfo, input_tokens: int | None = None) -> int:
    """The most one request may ask for: the model's max output, inside the context window."""
    cap = model.max_output_tokens
    if input_tokens is not None:
        cap = min(cap, model.context_window - input_tokens)
    return max(1, cap)


def request_capacity(cap: int, fmt: Format, settings: BudgetSettings) -> int:
    """The most estimated output one request may carry so that its max_tokens still fits `cap`:
    what one response should hold."""
    return max(1, math.floor((cap - settings.pad_tokens) / (1 + settings.margin(fmt))))


def _static_plan(
    estimate: Estimate | None,
    fmt: Format,
    cap: int,
    settings: BudgetSettings,
    complexity: Complexity,
) -> BudgetPlan:
    budget = settings.static_budgets[complexity] if settings.static_fallback else cap
    budget = min(budget, cap)
    paths = [d.path for d in estimate.deliverables] if estimate else []
    request = PlannedRequest(paths=paths, estimate_tokens=0, max_tokens=budget)
    return BudgetPlan(
        format=fmt, max_tokens=budget, requests=[request], fallback=True, estimate=estimate
    )


def _requests(estimate: Estimate, fmt: Format, cap: int, s: BudgetSettings) -> list[PlannedRequest]:
    """The deliverables, in order, split into requests that each fit one response. A request's
    max_tokens is sized from the room its deliverables need (`room_for`: in edit format the
    kind-weighted reserve), its `estimate_tokens` is their point estimate."""
    capacity = request_capacity(cap, fmt, s)
    requests: list[PlannedRequest] = []
    paths: list[str] = []
    load = point = largest = 0

    def flush() -> None:
        nonlocal paths, load, point, largest
        if paths:
            mt = max_tokens_for(load, fmt, cap, s, largest)
            requests.append(PlannedRequest(paths=paths, estimate_tokens=point, max_tokens=mt))
        paths, load, point, largest = [], 0, 0, 0

    for d in estimate.deliverables:
        size, guess = d.room_for(fmt), d.edit_tokens if fmt == "edit" else d.full_file_tokens
        edited = (d.size_tokens or 0) if d.action == "modify" and not d.whole else 0
        if size > capacity:
            flush()
            requests.extend(_parts(d.path, size, guess, capacity, fmt, cap, s, edited))
            continue
        if load + size > capacity:
            flush()
        paths.append(d.path)
        load += size
        point += guess
        largest = max(largest, edited)
    flush()
    return requests


def _parts(
    path: str, size: int, guess: int, capacity: int, fmt: Format, cap: int, s: BudgetSettings,
    edited: int,
) -> list[PlannedRequest]:  # fmt: skip
    """One file larger than a response, as consecutive requests (parts)."""
    parts = math.ceil(size / capacity)
    out = []
    for i in range(parts):
        share = min(capacity, size - i * capacity)
        out.append(
            PlannedRequest(
                paths=[path],
                estimate_tokens=math.ceil(guess * share / size),
                max_tokens=max_tokens_for(share, fmt, cap, s, edited),
                part=i + 1,
                parts=parts,
            )
        )
    return out


def plan_budget(
    estimate: Estimate | None,
    model: ModelInfo,
    settings: BudgetSettings | None = None,
    *,
    complexity: Complexity = "medium",
    input_tokens: int | None = None,
    fmt: Format | None = None,
) -> BudgetPlan:
    """The budget plan of one phase (or batch: `fmt` then keeps the phase's format). `input_tokens`
    (prompt size), when known, keeps input + max_tokens inside the context window."""
    s = settings or BudgetSettings()
    fmt = fmt or choose_format(estimate, s)
    cap = output_cap(model, input_tokens)
    if estimate is None or not estimate.complete:
        return _static_plan(estimate, fmt, cap, s, complexity)
    total = estimate.tokens_for(fmt)
    requests = _requests(estimate, fmt, cap, s)
    return BudgetPlan(
        format=fmt,
        max_tokens=requests[0].max_tokens,
        requests=requests,
        fallback=False,
        estimate=estimate,
        estimate_tokens=total,
    )


def next_max_tokens(model: ModelInfo, input_tokens: int | None = None) -> int:
    """max_tokens of the request after a cut (past the planned requests): the model's maximum
    output, inside the context window. It is not billed; a smaller step only risks another cut."""
    return output_cap(model, input_tokens)
