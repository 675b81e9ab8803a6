"""The baseline tracker on real git repos with real pytest runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.adapters.baseline_cache import DirBaselineStore, MemoryBaselineStore
from autopack.adapters.pytest_runner import PytestRunner
from autopack.app.baseline import BaselineTracker
from autopack.core.gates.baseline import compute_delta
from autopack.core.gates.decision import GateCost
from autopack.core.gates.test_report import CaseResult, Outcome, SuiteReport
from autopack.errors import SuiteRunError
from support.pyrepos import commit_all, flaky_test, make_repo, write_files

BASE = {
    "tests/test_old.py": (
        "def test_ok():\n    assert True\n\n\n"
        "def test_broken_before():\n    assert 1 == 0\n\n\n"
        "def test_fixed_later():\n    assert 1 == 0\n"
    ),
}


def tracker(store: object | None = None) -> BaselineTracker:
    return BaselineTracker(
        PytestRunner(plugin_autoload=False),
        store or MemoryBaselineStore(),  # type: ignore[arg-type]
    )


def test_delta_separates_new_pre_existing_fixed_and_flaky(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = make_repo(root, BASE)
    base = str(repo.head.commit.hexsha)
    t = tracker()
    t.capture(str(root), base)  # before the phase's files are written
    write_files(
        root,
        {
            "tests/test_old.py": BASE["tests/test_old.py"].replace(
                "def test_fixed_later():\n    assert 1 == 0", "def test_fixed_later():\n    pass"
            ),
            "tests/test_new.py": "def test_new_fails():\n    assert 'a' == 'b'\n",
            "tests/test_flaky.py": flaky_test(tmp_path / "marker"),
        },
    )
    a = t.assess(str(root), base)
    assert [x.node_id for x in a.delta.still_failing] == ["tests/test_old.py::test_broken_before"]
    assert a.delta.fixed == ("tests/test_old.py::test_fixed_later",)
    assert [x.node_id for x in a.persistent_failures] == ["tests/test_new.py::test_new_fails"]
    assert [x.node_id for x in a.flaky] == ["tests/test_flaky.py::test_flaky"]
    runner = t.runner
    assert isinstance(runner, PytestRunner)
    # baseline (at the base commit), the phase's run, and one re-run of only the new failures
    assert runner.calls == [
        (),
        (),
        ("tests/test_flaky.py::test_flaky", "tests/test_new.py::test_new_fails"),
    ]
    assert t.cost.suite_runs == 3 and t.cost.baseline_cache == "miss"
    assert t.cost.tests_executed == 3 + 5 + 2
    # what the re-run settled: the flaky test passed, the new failure stays
    settled = a.settled().failing()
    assert "tests/test_flaky.py::test_flaky" not in settled
    assert "tests/test_new.py::test_new_fails" in settled


def test_assess_without_a_captured_baseline_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = make_repo(root, BASE)
    t = tracker()
    with pytest.raises(SuiteRunError, match=r"no baseline was captured at .* before the phase"):
        t.assess(str(root), str(repo.head.commit.hexsha))
    assert isinstance(t.runner, PytestRunner) and t.runner.invocations == 0


def test_collection_error_persists_after_the_retry(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = make_repo(root, BASE)
    base = str(repo.head.commit.hexsha)
    t = tracker()
    t.capture(str(root), base)
    write_files(root, {"tests/test_bad.py": "import missing_module_xyz\n"})
    a = t.assess(str(root), base)
    assert [c.file for c in a.persistent_collection_errors] == ["tests/test_bad.py"]
    assert "missing_module_xyz" in a.persistent_collection_errors[0].message
    assert a.transient_collection_errors == ()


def test_baseline_runs_once_per_sha_and_is_cached_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = make_repo(root, BASE)
    base = str(repo.head.commit.hexsha)
    cache = tmp_path / "cache"
    first = tracker(DirBaselineStore(cache))
    first.capture(str(root), base)
    assert first.cost == GateCost(
        suite_runs=1, tests_executed=3, test_wall_s=first.cost.test_wall_s, baseline_cache="miss"
    )
    heads = []
    for n in range(2):  # two phases: each captures at its HEAD, the second reuses the first's run
        head = str(repo.head.commit.hexsha)
        first.reset_cost()
        first.capture(str(root), head)
        assert first.cost.baseline_cache == "hit" and first.cost.suite_runs == 0
        write_files(root, {f"tests/test_p{n}.py": f"def test_p{n}():\n    pass\n"})
        a = first.assess(str(root), head)
        heads.append(commit_all(repo, f"phase {n}"))
        first.remember(heads[-1], a.settled())
    assert isinstance(first.runner, PytestRunner)
    assert first.runner.calls == [(), (), ()]  # 1 baseline + 2 phase runs
    assert sorted(p.name for p in cache.glob("*.json")) == sorted(
        f"{first.key(sha)}.json" for sha in [base, *heads]
    )
    # git never sees the folder, wherever it is (a cache kept in the workspace, say)
    assert (cache / ".gitignore").read_text(encoding="utf-8") == "*\n"
    # A later run (new tracker, same cache folder) does not run the baseline again.
    again = tracker(DirBaselineStore(cache))
    report = again.capture(str(root), base)
    assert isinstance(again.runner, PytestRunner)
    assert again.runner.invocations == 0 and again.cost.baseline_cache == "hit"
    assert report.failing().keys() == {
        "tests/test_old.py::test_broken_before",
        "tests/test_old.py::test_fixed_later",
    }
    assert len(again.capture(str(root), heads[-1]).tests) == 5
    # A corrupt cache file is a miss, recomputed (in the tree at that commit) and rewritten.
    (cache / f"{first.key(heads[-1])}.json").write_text("{not json", encoding="utf-8")
    fresh = tracker(DirBaselineStore(cache))
    recomputed = fresh.capture(str(root), heads[-1])
    assert sorted(x.node_id for x in recomputed.tests) == sorted(
        x.node_id for x in again.capture(str(root), heads[-1]).tests
    )
    assert DirBaselineStore(cache).load(first.key(heads[-1])) == recomputed
    assert isinstance(fresh.runner, PytestRunner) and fresh.runner.invocations == 1


def test_compute_delta_is_pure() -> None:
    def t(node: str, outcome: Outcome) -> CaseResult:
        return CaseResult(node_id=node, outcome=outcome)

    before = SuiteReport(
        tests=(t("a", Outcome.failed), t("b", Outcome.passed), t("c", Outcome.error))
    )
    after = SuiteReport(
        tests=(t("a", Outcome.failed), t("b", Outcome.error), t("c", Outcome.passed))
    )
    delta = compute_delta(before, after)
    assert [x.node_id for x in delta.newly_failing] == ["b"]
    assert [x.node_id for x in delta.still_failing] == ["a"]
    assert delta.fixed == ("c",)


class _FullStore(MemoryBaselineStore):
    def save(self, key: str, report: SuiteReport) -> None:
        self.tries = getattr(self, "tries", 0) + 1
        raise SuiteRunError("cannot write the baseline cache /x: No space left on device")


def test_a_cache_that_cannot_be_written_is_a_warning_once(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = make_repo(root, BASE)
    store, warnings = _FullStore(), []
    t = BaselineTracker(PytestRunner(plugin_autoload=False), store, warnings.append)
    report = t.capture(str(root), repo.head.commit.hexsha)  # no error: the run goes on
    t.remember("f" * 40, report)
    assert t.captured(repo.head.commit.hexsha) is report  # kept in memory
    assert store.tries == 1  # not asked again
    [warning] = warnings
    assert "No space left on device" in warning and "in memory" in warning
