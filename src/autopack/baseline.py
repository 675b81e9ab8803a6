"""TestBaselineTracker: the T0 test baseline at the base commit (run once per commit SHA and test
configuration, cached through a BaselineStore port), the delta of a phase's run against it, and one
re-run of only what newly fails, to tell persistent failures from flaky ones.

Ports: TestRunner (runs tests in a folder), BaselineStore (the on-disk cache), Snapshots (a checkout
of a commit in a temp folder, so the baseline is measured at the base commit while the working tree
holds a phase's changes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from autopack.testing_models import CollectionError, TestOutcome, TestReport, TestRunner


class BaselineStore(Protocol):
    def load(self, key: str) -> TestReport | None: ...

    def save(self, key: str, report: TestReport) -> None: ...


class Snapshots(Protocol):
    def checkout(self, sha: str) -> AbstractContextManager[str]:
        """A read-only copy of the repo at `sha` in a temp folder (its path), removed on exit."""
        ...


class TestDelta(BaseModel):
    """A phase's run against the baseline (pure)."""

    __test__ = False
    model_config = ConfigDict(frozen=True, extra="forbid")

    newly_failing: tuple[TestOutcome, ...] = ()
    still_failing: tuple[TestOutcome, ...] = ()
    fixed: tuple[str, ...] = ()
    new_collection_errors: tuple[CollectionError, ...] = ()


def compute_delta(baseline: TestReport, current: TestReport) -> TestDelta:
    before = baseline.failing()
    now = current.failing()
    passing_now = {t.node_id for t in current.tests if not t.outcome.failing}
    old_errors = baseline.erroring_files()
    return TestDelta(
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
    baseline: TestReport
    current: TestReport
    delta: TestDelta
    persistent_failures: tuple[TestOutcome, ...] = ()
    flaky: tuple[TestOutcome, ...] = ()
    persistent_collection_errors: tuple[CollectionError, ...] = ()
    transient_collection_errors: tuple[CollectionError, ...] = ()


class TestBaselineTracker:
    __test__ = False

    def __init__(self, runner: TestRunner, store: BaselineStore, snapshots: Snapshots) -> None:
        self.runner = runner
        self.store = store
        self.snapshots = snapshots
        self._memo: dict[str, TestReport] = {}

    def key(self, sha: str) -> str:
        return f"{sha}-{self.runner.config_key}"

    def baseline(self, sha: str) -> TestReport:
        """The suite's result at commit `sha`: from memory, the store, or one run at that commit."""
        key = self.key(sha)
        if key in self._memo:
            return self._memo[key]
        report = self.store.load(key)
        if report is None:
            with self.snapshots.checkout(sha) as folder:
                report = self.runner.run(folder)
            self.store.save(key, report)
        self._memo[key] = report
        return report

    def assess(self, root: str, base_sha: str) -> Assessment:
        """Run the suite in `root` (the working tree with a phase's changes), compare it with the
        baseline at `base_sha`, and re-run once only the newly failing tests and newly erroring
        collectors: what passes (or collects) on the re-run is flaky, the rest persistent."""
        baseline = self.baseline(base_sha)
        current = self.runner.run(root)
        delta = compute_delta(baseline, current)
        retry_ids = [t.node_id for t in delta.newly_failing]
        retry_files = [c.file for c in delta.new_collection_errors]
        persistent, flaky = list(delta.newly_failing), []
        errors_kept, errors_gone = list(delta.new_collection_errors), []
        if retry_ids or retry_files:
            again = self.runner.run(root, [*retry_files, *_unique(retry_ids)])
            still = again.failing()
            seen = {t.node_id for t in again.tests}
            persistent = [
                t for t in delta.newly_failing if t.node_id in still or t.node_id not in seen
            ]
            flaky = [t for t in delta.newly_failing if t.node_id in seen and t.node_id not in still]
            erroring = again.erroring_files()
            errors_kept = [c for c in delta.new_collection_errors if c.file in erroring]
            errors_gone = [c for c in delta.new_collection_errors if c.file not in erroring]
        return Assessment(
            base_sha=base_sha,
            baseline=baseline,
            current=current,
            delta=delta,
            persistent_failures=tuple(persistent),
            flaky=tuple(flaky),
            persistent_collection_errors=tuple(errors_kept),
            transient_collection_errors=tuple(errors_gone),
        )


def _unique(items: list[str]) -> Iterator[str]:
    seen: set[str] = set()
    for item in items:
        if item not in seen:
            seen.add(item)
            yield item
