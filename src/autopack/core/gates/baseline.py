"""BaselineTracker: the T0 test baseline at the base commit (run once per commit SHA and test
configuration, cached through a BaselineStore port), the delta of a phase's run against it, and one
re-run of only what newly fails, to tell persistent failures from flaky ones.

Ports: SuiteRunner (runs tests in a folder), BaselineStore (the on-disk cache). The baseline is
measured in the working tree at the base commit before a phase's changes are written
(app/baseline.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from autopack.core.gates.test_report import CaseResult, CollectionError, Outcome, SuiteReport


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

    def settled(self) -> SuiteReport:
        """The phase's run with what the re-run settled: flaky tests count as passed, collection
        errors that went away are dropped (the baseline of the commit this run becomes)."""
        flaky = {t.node_id for t in self.flaky}
        gone = {c.file for c in self.transient_collection_errors}
        return self.current.model_copy(
            update={
                "tests": tuple(
                    t.model_copy(update={"outcome": Outcome.passed, "message": ""})
                    if t.node_id in flaky
                    else t
                    for t in self.current.tests
                ),
                "collection_errors": tuple(
                    c for c in self.current.collection_errors if c.file not in gone
                ),
            }
        )
