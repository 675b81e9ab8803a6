"""Prompt-cache breakpoints that pay for themselves (pure): where a request marks `cache_control`.

How the Messages API bills a cached prefix (Anthropic's rules): the prefix up to a breakpoint is
written to the cache at 1.25x the input price (5-minute TTL, refreshed by each read); a later
request whose prefix up to one of its breakpoints (or up to 20 blocks before one) is in the cache
reads it at 0.1x; the part between the longest cached prefix and the last breakpoint is written;
the rest is plain input (1x). A prefix shorter than the model's minimum cacheable length
(`ModelInfo.min_cache_tokens`: 1,024 tokens for Sonnet and Opus) is never cached: the breakpoint
is ignored. Writing is not free, so a breakpoint is placed only where a read is expected.

The rule, from expected cost. Marking the end of a block writes the tokens between the last cached
position and that block at +0.25x over plain input, once; every later request that reads them pays
0.1x instead of 1x, saving 0.9x. With R the expected number of later requests that read the prefix
(within the TTL), marking pays when 0.9 R > 0.25, i.e. **R >= 0.28**. R per place:

- End of the system prompt (with the repo-wide context, the prefix every phase of a run shares):
  R = the later phases of the run that will send it (`CacheContext.shared_reads`) plus this
  conversation's later requests. Marked when a later phase follows (R >= 1), and in every phase
  after one that marked it (`shared_written`): a breakpoint is what lets a request read.
- End of the latest message (a moving breakpoint: each request marks its newest turn, and reads
  what the request before it wrote, found by the API's 20-block lookback):
  - a later request is planned (the budget plan splits the output, or batches follow): R >= 1;
  - the request is a continuation or a repair that cannot be sure to finish the phase (a repair
    turn; a continuation whose max_tokens is below the model's maximum, as with a fixed
    `--max-tokens`, where the rest rarely fits): R is taken as 0.5 (`P_AFTER_UNPLANNED`), an
    assumption rather than a measurement: such conversations are continued again when the budget
    is fixed, when a stream drops again or a repair turn follows, and gate repair rounds continue
    them; the loss when no read follows is 0.25x of the newest turn only when the request before
    it was cached;
  - a continuation that asks for the model's maximum output (the policy's step after a cut): R =
    P(yet another request) ~ 0.1 (`P_FIRST_FOLLOWUP`: in the policy bench a continuation at the
    maximum finishes the phase; writing there cost 0.7% more on edit phases): not marked, and it
    reads nothing, as no earlier request of an unplanned conversation wrote;
  - the first request of a phase planned as one response: R = P(an unplanned request follows)
    ~ 0.1 (`P_FIRST_FOLLOWUP`; the policy bench has 2-7% of phases continued, plus repair turns):
    not marked. Today's placement marked it on every request and paid the write premium on the
    97% of edit phases answered in one request.

A breakpoint is also what lets a request READ: a request that writes nothing new marks the end of
the prefix an earlier request of its conversation cached (`cached_through`), which costs no write.
When the newest turn is more than 20 blocks past that prefix, both are marked, so the lookback
still finds it. At most 3 of the API's 4 breakpoints are used.

Prefix sizes are estimated at `CHARS_PER_TOKEN_LOW` (4.0) chars per token, a low token count, so
that a prefix near the minimum is not marked in vain (an exact count replaces the estimate when the
caller has one).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from autopack.core.model_io import CacheMarks

WRITE_PREMIUM = 0.25  # a cache write costs 1.25x input
READ_SAVING = 0.9  # a cache read costs 0.1x input
MIN_EXPECTED_READS = WRITE_PREMIUM / READ_SAVING  # 0.28
P_AFTER_UNPLANNED = 0.5
P_FIRST_FOLLOWUP = 0.1
CHARS_PER_TOKEN_LOW = 4.0
LOOKBACK_BLOCKS = 20  # how far before a breakpoint the API looks for a cached prefix


class CacheContext(BaseModel):
    """What a conversation knows about reads to come."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    min_tokens: NonNegativeInt = 1024  # the model's minimum cacheable prefix
    shared_reads: NonNegativeInt = Field(
        default=0, description="Later phases of the run that send the same system prompt"
    )
    shared_written: bool = Field(
        default=False, description="An earlier phase of the run marked the system prompt"
    )


def expected_reads(planned_after: int, unplanned: bool, at_max: bool = False) -> float:
    """Expected later requests of this conversation: the planned ones, else a prior by purpose."""
    if planned_after > 0:
        return float(planned_after)
    return P_AFTER_UNPLANNED if unplanned and not at_max else P_FIRST_FOLLOWUP


def low_tokens(chars: int) -> int:
    return int(chars / CHARS_PER_TOKEN_LOW)


def cache_marks(
    ctx: CacheContext,
    system_chars: int,
    message_chars: Sequence[int],
    *,
    planned_after: int = 0,
    unplanned: bool = False,
    at_max: bool = False,
    cached_through: int | None = None,
) -> CacheMarks:
    """The breakpoints of one request: the system prompt when later phases share it; the latest
    message when a later request of this conversation is expected; else the end of the prefix an
    earlier request cached (`cached_through`, a message index), to read it. See the docstring."""
    if not ctx.enabled:
        return CacheMarks()
    later = expected_reads(planned_after, unplanned, at_max)
    system_tokens = low_tokens(system_chars)
    wanted = ctx.shared_written or ctx.shared_reads + later >= MIN_EXPECTED_READS
    system = system_tokens >= ctx.min_tokens and wanted
    latest = len(message_chars) - 1
    total = system_tokens + low_tokens(sum(message_chars))
    marks: set[int] = set()
    if latest >= 0 and total >= ctx.min_tokens and later >= MIN_EXPECTED_READS:
        marks.add(latest)
    known = cached_through is not None and 0 <= cached_through <= latest
    if known and (not marks or latest - (cached_through or 0) >= LOOKBACK_BLOCKS):
        marks.add(cached_through or 0)
    return CacheMarks(system=system, messages=tuple(sorted(marks)))
