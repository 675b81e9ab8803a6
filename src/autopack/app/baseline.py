"""BaselineTracker: the T0 test baseline at the base commit (run once per commit SHA and test
configuration, cached through a BaselineStore port), the delta of a phase's run against it, and one
re-run of only what newly fails, to tell persistent failures from flaky ones."""

from __future__ import annotations

from collections.abc import Iterator

from autopack.core.gates.baseline import Assessment, compute_delta
from autopack.core.gates.test_report import SuiteReport
from autopack.ports import BaselineStore, Snapshots, SuiteRunner


class BaselineTracker:
    def __init__(self, runner: SuiteRunner, store: BaselineStore, snapshots: Snapshots) -> None:
        self.runner = runner
        self.store = store
        self.snapshots = snapshots
        self._memo: dict[str, SuiteReport] = {}

    def key(self, sha: str) -> str:
        return f"{sha}-{self.runner.config_key}"

    def baseline(self, sha: str) -> SuiteReport:
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
