"""Gate decisions (pure models). A Finalizer port decides whether a phase's applied changes may be
committed; the executor only reads the decision."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.checks import Annotation
from autopack.core.edits.changeset import ChangeSet
from autopack.core.spec import Phase


class GateStatus(StrEnum):
    passed = "pass"
    warn = "warn"
    block = "block"


class GateResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    gate: str
    status: GateStatus
    reason: str = ""


class GateCost(BaseModel):
    """What a phase's test gates cost: the suite runs (the baseline when it was not cached, the
    phase's run, re-runs of new failures), the tests they executed, their wall time, and whether
    the baseline came from the cache (`hit`) or had to be run (`miss`); empty without tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite_runs: int = 0
    tests_executed: int = 0
    test_wall_s: float = 0.0
    baseline_cache: str = ""  # "hit", "miss" or "" (no test gate)

    def __add__(self, other: GateCost) -> GateCost:
        return GateCost(
            suite_runs=self.suite_runs + other.suite_runs,
            tests_executed=self.tests_executed + other.tests_executed,
            test_wall_s=self.test_wall_s + other.test_wall_s,
            baseline_cache=other.baseline_cache or self.baseline_cache,
        )

    def describe(self) -> str:
        baseline = f", baseline cache {self.baseline_cache}" if self.baseline_cache else ""
        return (
            f"{self.suite_runs} test-suite run(s), {self.tests_executed} test(s) executed, "
            f"{self.test_wall_s:.1f} s of tests{baseline}"
        )


class PhaseDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    gates: tuple[GateResult, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    cost: GateCost = GateCost()

    @property
    def blocked(self) -> bool:
        return any(g.status is GateStatus.block for g in self.gates)

    @property
    def warnings(self) -> list[GateResult]:
        return [g for g in self.gates if g.status is GateStatus.warn]

    def block_reasons(self) -> list[str]:
        return [f"{g.gate}: {g.reason}" for g in self.gates if g.status is GateStatus.block]


class LintIssue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    line: int
    code: str
    message: str


class NoGates:
    """A finalizer with no gates: every phase that applied cleanly passes."""

    def prepare(self) -> None:
        """No tests, so no baseline to capture."""

    def committed(self, sha: str) -> None:
        """No test run to keep as the next phase's baseline."""

    def finalize(self, phase: Phase, changes: ChangeSet) -> PhaseDecision:
        return PhaseDecision(gates=(GateResult(gate="apply", status=GateStatus.passed),))


__all__ = ["Field", "GateCost", "GateResult", "GateStatus", "LintIssue", "NoGates", "PhaseDecision"]
