"""Test-run models (pure); the SuiteRunner port is in ports.py. A SuiteReport is what one run of a repo's test
suite produced: one outcome per test, the collectors that failed to import, and the run's exit code.
Adapters (the pytest runner) produce it; the baseline tracker and the finalizer only read it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    passed = "passed"
    failed = "failed"
    error = "error"
    skipped = "skipped"
    xfail = "xfailed"
    xpass = "xpassed"

    @property
    def failing(self) -> bool:
        return self in (Outcome.failed, Outcome.error)


class CaseResult(BaseModel):
    """One test. `message` is the first line of the error; `path`/`line` (1-based) locate it in the
    repo for an annotation (the deepest traceback entry inside the repo, else the test itself)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node_id: str
    outcome: Outcome
    message: str = ""
    path: str | None = None
    line: int | None = Field(default=None, ge=1)
    duration: float = 0.0


class CollectionError(BaseModel):
    """A test file (or package) pytest could not collect: import error, syntax error, ..."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    message: str
    line: int | None = Field(default=None, ge=1)


class SuiteReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tests: tuple[CaseResult, ...] = ()
    collection_errors: tuple[CollectionError, ...] = ()
    exit_code: int = 0
    duration: float = 0.0
    coverage_percent: float | None = None

    def outcome(self, node_id: str) -> CaseResult | None:
        for t in self.tests:
            if t.node_id == node_id:
                return t
        return None

    def failing(self) -> dict[str, CaseResult]:
        return {t.node_id: t for t in self.tests if t.outcome.failing}

    def erroring_files(self) -> dict[str, CollectionError]:
        return {c.file: c for c in self.collection_errors}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tests:
            out[t.outcome.value] = out.get(t.outcome.value, 0) + 1
        if self.collection_errors:
            out["collection errors"] = len(self.collection_errors)
        return out


def matches(node_id: str, selector: str) -> bool:
    """Whether a test node id is selected by a pytest selector (a node id, a file or a folder)."""
    sel = selector.strip().rstrip("/")
    return node_id == sel or node_id.startswith(sel + "::") or node_id.startswith(sel + "/")
