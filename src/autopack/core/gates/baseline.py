"""BaselineTracker: the T0 test baseline at the base commit (run once per commit SHA and test
configuration, cached through a BaselineStore port), the delta of a phase's run against it, and one
re-run of only what newly fails, to tell persistent failures from flaky ones.

Ports: SuiteRunner (runs tests in a folder), BaselineStore (the on-disk cache), Snapshots (a checkout
of a commit in a temp folder, so the baseline is measured at the base commit while the working tree
holds a phase's changes)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from autopack.core.gates.test_report import CaseResult, CollectionError, SuiteReport


class SuiteDelta(BaseModel):
    """A phase's run against the baseline (pure)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    newly_failing: tuple[CaseResult, ...] = ()
    still_failing: tuple[CaseResult, ...] = ()
    fixed: tuple[str, ...] = ()
    new_collection_errors: tuple[CollectionError, ...] = ()


def compute_delta(baseline: SuiteReport, current: SuiteReport) -> SuiteDelta:
    before = baseline.failing()
    now = current.failing()
    passing_now = {t.node_id for t in current.tests if not t.outcome.failing}
    old_errors = baseline.erroring_files()
    return SuiteDelta(
        newly_failing=tuple(t for n, t in sorted(now.items()) if n not in before),
        still_failing=tuple(t for n, t in sorted(now.items()) if n in before),
        fixed=tuple(sorted(n for n in before if n in passing_now)),
        new_collection_errors=tuple(
            c for c in current.collection_errors if c.file not in old_errors
        ),
    )


class Assessment(BaseModel):
    """The verdict material for a phase: the delta, and which new problems survived a re-run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_sha: str
    baseline: SuiteReport
    current: SuiteReport
    delta: SuiteDelta
    persistent_failures: tuple[CaseResult, ...] = ()
    flaky: tuple[CaseResult, ...] = ()
    persistent_collection_errors: tuple[CollectionError, ...] = ()
    transient_collection_errors: tuple[CollectionError, ...] = ()
