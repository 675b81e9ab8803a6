"""The prompt-cache rule: a breakpoint only where a read is expected, never under the minimum."""

from __future__ import annotations

from autopack.adapters.package_data import lookup
from autopack.core.budget.caching import (
    MIN_EXPECTED_READS,
    P_AFTER_UNPLANNED,
    P_FIRST_FOLLOWUP,
    CacheContext,
    cache_marks,
    expected_reads,
)
from autopack.core.model_io import CacheMarks

CTX = CacheContext(min_tokens=1024)
BIG = 8000  # chars: 2,000 tokens at the low estimate of 4 chars a token


def test_the_threshold_comes_from_the_write_premium_and_the_read_saving() -> None:
    assert round(MIN_EXPECTED_READS, 3) == round(0.25 / 0.9, 3)
    assert P_FIRST_FOLLOWUP < MIN_EXPECTED_READS <= P_AFTER_UNPLANNED
    assert expected_reads(2, unplanned=False) == 2.0


def test_a_single_planned_request_marks_nothing() -> None:
    assert cache_marks(CTX, BIG, [BIG]) == CacheMarks()


def test_a_planned_later_request_marks_the_latest_message() -> None:
    assert cache_marks(CTX, 400, [BIG], planned_after=1) == CacheMarks(messages=(0,))


def test_continuations_and_repairs_carry_a_moving_breakpoint() -> None:
    msgs = [BIG, 3000, 200]
    assert cache_marks(CTX, 400, msgs, unplanned=True) == CacheMarks(messages=(2,))
    # A continuation that asks for the model's maximum usually finishes the phase: no write.
    assert cache_marks(CTX, 400, msgs, unplanned=True, at_max=True) == CacheMarks()
    # The last planned request reads what an earlier one cached, without writing its new turns.
    assert cache_marks(CTX, 400, msgs, cached_through=0) == CacheMarks(messages=(0,))
    # Far past the cached prefix (beyond the 20-block lookback), both are marked.
    long = [BIG] + [100] * 24
    marks = cache_marks(CTX, 400, long, unplanned=True, cached_through=0)
    assert marks.messages == (0, 24)


def test_never_under_the_minimum_cacheable_length() -> None:
    small = [1000, 500]  # 375 tokens
    assert cache_marks(CTX, 400, small, unplanned=True) == CacheMarks()
    assert cache_marks(CTX, 400, small, planned_after=3) == CacheMarks()
    opus = CacheContext(min_tokens=lookup("claude-opus-4-5").min_cache_tokens)
    assert opus.min_tokens == 4096  # from the model table
    assert cache_marks(opus, 400, [BIG], planned_after=1) == CacheMarks()  # 2,100 < 4,096


def test_the_shared_system_prompt_is_marked_when_a_phase_follows_or_preceded() -> None:
    system = 6000  # 1,500 tokens
    assert cache_marks(CTX, system, [200]) == CacheMarks()  # the run's only phase
    assert cache_marks(CTX.model_copy(update={"shared_reads": 2}), system, [200]).system
    assert cache_marks(CTX.model_copy(update={"shared_written": True}), system, [200]).system
    small = CTX.model_copy(update={"shared_reads": 2})
    assert not cache_marks(small, 2000, [200]).system  # 500 tokens: under the minimum
    assert cache_marks(CTX.model_copy(update={"enabled": False}), BIG, [BIG], planned_after=3) == (
        CacheMarks()
    )
