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


class PhaseDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    gates: tuple[GateResult, ...] = ()
    annotations: tuple[Annotation, ...] = ()

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

    def finalize(self, phase: Phase, changes: ChangeSet) -> PhaseDecision:
        return PhaseDecision(gates=(GateResult(gate="apply", status=GateStatus.passed),))


__all__ = ["Field", "GateResult", "GateStatus", "LintIssue", "NoGates", "PhaseDecision"]
