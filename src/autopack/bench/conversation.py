"""A simulated phase conversation, priced as the Messages API bills it, with the cache breakpoints
the adapter actually sends.

Blocks: the system prompt (shared by the phases of a run), the phase prompt, then per later request
the kept assistant turn and a short user turn (continue, or the next batch). `CacheSim` keeps
Anthropic's rules: a prefix ending at a breakpoint is cached when it holds at least the model's
minimum; a request reads the longest cached prefix ending at one of its breakpoints or up to 20
blocks before one (0.1x), writes the rest up to its last cacheable breakpoint (1.25x) and pays
plain input for what follows (1x); entries never expire here (the 5-minute TTL is refreshed by
each read; runs are simulated back to back).

Placements: "pays" (core/budget/caching.py, what the adapter sends now), "today" (the system prompt
and the first user message on every request: the placement before issue #15), "none".
"""

from __future__ import annotations

from autopack.bench.policy_table import Placement

__all__ = ["BATCH_PROMPT_TOKENS", "CONTINUE_PROMPT_TOKENS", "CacheSim", "Conversation", "Placement"]
from autopack.core.budget.caching import CHARS_PER_TOKEN_LOW, CacheContext, cache_marks
from autopack.core.modeltable import ModelInfo
from autopack.core.usage import Usage

LOOKBACK_BLOCKS = 20
CONTINUE_PROMPT_TOKENS = 40
BATCH_PROMPT_TOKENS = 60  # plus 10 per file named


class CacheSim:
    """The prompt cache of one run: which block prefixes are cached."""

    def __init__(self, min_tokens: int) -> None:
        self.min_tokens = min_tokens
        self.entries: set[tuple[str, ...]] = set()

    def bill(self, blocks: list[tuple[str, int]], marks: set[int]) -> Usage:
        """Input usage of a request of `blocks` (id, tokens) with breakpoints after `marks`."""
        cum: list[int] = []
        for _, tokens in blocks:
            cum.append((cum[-1] if cum else 0) + tokens)
        keys = [tuple(b for b, _ in blocks[: j + 1]) for j in range(len(blocks))]
        read_at = -1
        for bp in sorted(marks):
            for j in range(bp, max(-1, bp - LOOKBACK_BLOCKS - 1), -1):
                if keys[j] in self.entries:
                    read_at = max(read_at, j)
                    break
        written_to = read_at
        for bp in sorted(marks):
            if cum[bp] >= self.min_tokens:
                self.entries.add(keys[bp])
                written_to = max(written_to, bp)
        read = cum[read_at] if read_at >= 0 else 0
        write = cum[written_to] - read if written_to > read_at else 0
        return Usage(
            input_tokens=cum[-1] - read - write,
            cache_creation_input_tokens=write,
            cache_read_input_tokens=read,
        )


class Conversation:
    """One phase's requests: their usage, cost and latency under a cache placement."""

    def __init__(
        self,
        info: ModelInfo,
        cache: CacheSim,
        placement: Placement,
        *,
        run: str,
        phase: str,
        system_tokens: int,
        prompt_tokens: int,
        shared: CacheContext,
    ) -> None:
        self.info, self.cache, self.placement, self.shared = info, cache, placement, shared
        self.phase = phase
        self.blocks = [(f"{run}:system", system_tokens), (f"{phase}:prompt", prompt_tokens)]
        self.cached_through: int | None = None
        self.usage = Usage()
        self.cost = 0.0
        self.requests = 0

    def _marks(self, planned_after: int, unplanned: bool, at_max: bool) -> set[int]:
        if self.placement == "none":
            return set()
        if self.placement == "today":
            return {0, 1}
        chars = [round(t * CHARS_PER_TOKEN_LOW) for _, t in self.blocks]
        marks = cache_marks(
            self.shared,
            chars[0],
            chars[1:],
            planned_after=planned_after,
            unplanned=unplanned,
            at_max=at_max,
            cached_through=self.cached_through,
        )
        if marks.messages:
            self.cached_through = max(marks.messages)
        return ({0} if marks.system else set()) | {m + 1 for m in marks.messages}

    def request(
        self,
        generated: int,
        *,
        planned_after: int = 0,
        unplanned: bool = False,
        at_max: bool = False,
    ) -> None:
        """One request that generates `generated` tokens (`at_max`: it asks for the model's max)."""
        billed = self.cache.bill(self.blocks, self._marks(planned_after, unplanned, at_max))
        usage = billed.model_copy(update={"output_tokens": generated})
        self.usage = self.usage + usage
        self.cost += self.info.cost_usd(usage)
        self.requests += 1

    def turn(self, assistant_tokens: int, user_tokens: int) -> None:
        """The kept assistant turn and the next user turn, appended to the conversation."""
        n = len(self.blocks)
        self.blocks += [
            (f"{self.phase}:{n}", assistant_tokens),
            (f"{self.phase}:{n + 1}", user_tokens),
        ]
