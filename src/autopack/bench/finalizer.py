"""`autopack bench finalizer`: the cost of the test gates over a run of N phases on a generated repo.

Both strategies gate the same phases on the same working tree with the same real pytest runner:
- ours: the baseline captured in the working tree before the phase's files are written, cached by
  SHA (a committed phase's gated run is the next phase's baseline); per phase one full run, and a
  re-run of only the newly failing tests;
- naive: per phase the baseline re-run at the base commit, one full run, and a full re-run when
  anything newly fails.
Every k-th phase adds a failing test (that phase is discarded, as a failed phase would be)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import git
from pydantic import BaseModel, ConfigDict, Field

from autopack.adapters.baseline_cache import DirBaselineStore, GitSnapshots
from autopack.adapters.pytest_runner import PytestRunner
from autopack.app.baseline import BaselineTracker
from autopack.core.gates.baseline import compute_delta
from autopack.core.gates.test_report import SuiteReport

PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["src"]\n'


class BenchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    phases: int = Field(default=6, ge=1, le=100)
    files: int = Field(default=8, ge=1, le=200)
    tests_per_file: int = Field(default=25, ge=1, le=1000)
    test_ms: float = Field(default=2.0, ge=0, description="sleep per generated test (work)")
    fail_every: int = Field(default=3, ge=0, description="every k-th phase adds a failure; 0 none")
    plugin_autoload: bool = False


class StrategyCost(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    runs: int
    tests: int  # test outcomes produced over those runs
    seconds: float
    blocked: bool


class PhaseRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: str
    new_failure: bool
    ours: StrategyCost
    naive: StrategyCost


def _module(i: int) -> str:
    return f"def f{i}(x):\n    return x + {i}\n"


def _tests(i: int, count: int, ms: float, failing: bool = False) -> str:
    head = f"import time\n\nfrom gen.m{i} import f{i}\n\n"
    body = "".join(
        f"\ndef test_f{i}_{n}():\n    time.sleep({ms / 1000:.4f})\n    assert f{i}({n}) == {n + i}\n"
        for n in range(count)
    )
    if failing:
        body += f"\ndef test_f{i}_new_bug():\n    assert f{i}(0) == -1\n"
    return head + body


def make_repo(root: Path, config: BenchConfig) -> git.Repo:
    """A package of `files` modules with `tests_per_file` tests each and one pre-existing failure."""
    files = {"pyproject.toml": PYPROJECT, "src/gen/__init__.py": ""}
    for i in range(config.files):
        files[f"src/gen/m{i}.py"] = _module(i)
        files[f"tests/test_m{i}.py"] = _tests(i, config.tests_per_file, config.test_ms)
    files["tests/test_known.py"] = "def test_known_broken():\n    assert 1 == 2\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Bench")
        cw.set_value("user", "email", "bench@example.invalid")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "generated")
    return repo


def _naive(runner: PytestRunner, snapshots: GitSnapshots, root: str, base: str) -> bool:
    with snapshots.checkout(base) as folder:
        baseline = runner.run(folder)
    current = runner.run(root)
    delta = compute_delta(baseline, current)
    if not (delta.newly_failing or delta.new_collection_errors):
        return False
    again = runner.run(root)
    return bool(compute_delta(baseline, again).newly_failing)


class _Counting(PytestRunner):
    """The real runner, also keeping each report (to count the tests each strategy ran)."""

    def __init__(self, config: BenchConfig) -> None:
        super().__init__(plugin_autoload=config.plugin_autoload)
        self.tests_seen = 0

    def run(self, root: str, select: Sequence[str] | None = None) -> SuiteReport:
        report = super().run(root, select)
        self.tests_seen += len(report.tests)
        return report


def _cost(runner: _Counting, gate: Callable[[], bool]) -> StrategyCost:
    runs0, tests0, started = runner.invocations, runner.tests_seen, time.monotonic()
    blocked = gate()
    return StrategyCost(
        runs=runner.invocations - runs0,
        tests=runner.tests_seen - tests0,
        seconds=time.monotonic() - started,
        blocked=blocked,
    )


def run_bench(root: Path, config: BenchConfig) -> list[PhaseRow]:
    repo = make_repo(root, config)
    base = repo.head.commit.hexsha
    snapshots = GitSnapshots(root)
    ours_runner, naive_runner = _Counting(config), _Counting(config)
    with tempfile.TemporaryDirectory(prefix="autopack-bench-cache-") as cache:
        tracker = BaselineTracker(ours_runner, DirBaselineStore(cache))
        rows = []
        for n in range(1, config.phases + 1):
            i = config.files + n
            failing = config.fail_every > 0 and n % config.fail_every == 0
            added = {
                f"src/gen/m{i}.py": _module(i),
                f"tests/test_m{i}.py": _tests(i, 3, config.test_ms, failing),
            }
            head = repo.head.commit.hexsha
            runs0, tests0, started = (
                ours_runner.invocations,
                ours_runner.tests_seen,
                time.monotonic(),
            )
            tracker.capture(str(root), head)  # before the phase's files are written
            for rel, text in added.items():
                (root / rel).write_text(text, encoding="utf-8")
            assessment = tracker.assess(str(root), head)
            ours = StrategyCost(
                runs=ours_runner.invocations - runs0,
                tests=ours_runner.tests_seen - tests0,
                seconds=time.monotonic() - started,
                blocked=bool(assessment.persistent_failures),
            )

            def naive() -> bool:
                return _naive(naive_runner, snapshots, str(root), base)

            naive_cost = _cost(naive_runner, naive)
            if ours.blocked:
                for rel in added:
                    (root / rel).unlink()
            else:
                repo.git.add("-A")
                repo.git.commit("-q", "-m", f"phase {n}")
                tracker.remember(repo.head.commit.hexsha, assessment.settled())
            rows.append(PhaseRow(phase=f"p{n}", new_failure=failing, ours=ours, naive=naive_cost))
    return rows


def render_table(rows: list[PhaseRow], config: BenchConfig) -> str:
    def verdict(c: StrategyCost) -> str:
        return "block" if c.blocked else "pass"

    lines = [
        f"bench finalizer: {config.phases} phases on a generated repo of "
        f"{config.files * config.tests_per_file + 1} tests ({config.files} files x "
        f"{config.tests_per_file}, 1 pre-existing failure); "
        + (
            f"every phase n with n % {config.fail_every} == 0 "
            if config.fail_every
            else "no phase "
        )
        + "adds a failing test (and is discarded)",
        "ours = baseline once per SHA (cached), 1 run per phase, re-run only new failures; "
        "naive = baseline re-run per phase, 1 run, full re-run on new failures",
        "",
        "| phase | new failure | ours: verdict | ours: runs | ours: tests | ours: s "
        "| naive: verdict | naive: runs | naive: tests | naive: s |",
        "|---|---|---|--:|--:|--:|---|--:|--:|--:|",
    ]
    for r in rows:
        o, v = r.ours, r.naive
        lines.append(
            f"| {r.phase} | {'yes' if r.new_failure else 'no'} | {verdict(o)} | {o.runs} | "
            f"{o.tests} | {o.seconds:.2f} | {verdict(v)} | {v.runs} | {v.tests} | {v.seconds:.2f} |"
        )
    o_runs, v_runs = sum(r.ours.runs for r in rows), sum(r.naive.runs for r in rows)
    o_tests, v_tests = sum(r.ours.tests for r in rows), sum(r.naive.tests for r in rows)
    o_s, v_s = sum(r.ours.seconds for r in rows), sum(r.naive.seconds for r in rows)
    lines.append(
        f"| **total** | | | {o_runs} | {o_tests} | {o_s:.2f} | | {v_runs} | {v_tests} | {v_s:.2f} |"
    )
    lines += [
        "",
        f"ratio naive/ours: {v_runs / max(o_runs, 1):.2f}x test-suite runs, "
        f"{v_tests / max(o_tests, 1):.2f}x tests executed, {v_s / max(o_s, 1e-9):.2f}x wall time",
    ]
    return "\n".join(lines)
