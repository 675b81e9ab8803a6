"""BaselineTracker: the test baseline a phase is judged against, its delta, and one re-run of only
what newly fails, to tell persistent failures from flaky ones.

The baseline cannot be fooled by the phase it judges: `capture` measures it in the working tree the
phase will be judged in, with the same runner (so the same environment), while that tree holds
the base commit and nothing of the phase (the executor calls it before the phase's changes are
written; until then they exist only in memory). It is cached by commit SHA and test configuration
through a BaselineStore port. A gated run that becomes a commit is the next phase's baseline
(`remember`): that tree is the one the next phase starts from, so it costs no extra run.

A cache that cannot be written (an unwritable or full folder) never blocks a run: the first
failure is a warning (`warn`), and the baselines stay in memory for the rest of the run.

`cost` counts the suite runs, the tests they executed and their wall time since `reset_cost`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from autopack.core.gates.baseline import Assessment, compute_delta
from autopack.core.gates.decision import GateCost
from autopack.core.gates.test_report import SuiteReport
from autopack.errors import SuiteRunError
from autopack.ports import BaselineStore, SuiteRunner


class BaselineTracker:
    def __init__(
        self,
        runner: SuiteRunner,
        store: BaselineStore,
        warn: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.runner = runner
        self.store = store
        self.warn = warn
        self.cache_error = ""  # why the store could not save (then it is not asked again)
        self._memo: dict[str, SuiteReport] = {}
        self.cost = GateCost()

    def key(self, sha: str) -> str:
        return f"{sha}-{self.runner.config_key}"

    def reset_cost(self) -> None:
        self.cost = GateCost()

    def _run(self, root: str, select: Sequence[str] | None = None) -> SuiteReport:
        report = self.runner.run(root, select)
        self.cost = self.cost + GateCost(
            suite_runs=1, tests_executed=len(report.tests), test_wall_s=report.duration
        )
        return report

    def capture(self, root: str, sha: str) -> SuiteReport:
        """The suite's result at commit `sha`: from memory, the store, or one run in `root`, which
        must hold exactly that commit's tree (call it before a phase's changes are written)."""
        key = self.key(sha)
        report = self._memo.get(key) or self.store.load(key)
        hit = report is not None
        if report is None:
            report = self._run(root)
            self._save(key, report)
        self._memo[key] = report
        self.cost = self.cost + GateCost(baseline_cache="hit" if hit else "miss")
        return report

    def captured(self, sha: str) -> SuiteReport | None:
        return self._memo.get(self.key(sha))

    def remember(self, sha: str, report: SuiteReport) -> None:
        """`report` was measured on the tree now committed as `sha`: it is that commit's baseline."""
        self._memo[self.key(sha)] = report
        self._save(self.key(sha), report)

    def _save(self, key: str, report: SuiteReport) -> None:
        if self.cache_error:
            return
        try:
            self.store.save(key, report)
        except SuiteRunError as exc:
            self.cache_error = str(exc)
            self.warn(
                f"autopack: warning: {exc}; the baselines are kept in memory for this run only"
            )

    def assess(self, root: str, base_sha: str) -> Assessment:
        """Run the suite in `root` (the working tree with a phase's changes), compare it with the
        baseline captured at `base_sha`, and re-run once only the newly failing tests and newly
        erroring collectors: what passes (or collects) on the re-run is flaky, the rest
        persistent."""
        baseline = self.captured(base_sha)
        if baseline is None:
            raise SuiteRunError(
                f"no baseline was captured at {base_sha[:10]} before the phase's changes were "
                "written; the phase cannot be judged"
            )
        current = self._run(root)
        delta = compute_delta(baseline, current)
        retry_ids = [t.node_id for t in delta.newly_failing]
        retry_files = [c.file for c in delta.new_collection_errors]
        persistent, flaky = list(delta.newly_failing), []
        errors_kept, errors_gone = list(delta.new_collection_errors), []
        if retry_ids or retry_files:
            again = self._run(root, [*retry_files, *_unique(retry_ids)])
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
