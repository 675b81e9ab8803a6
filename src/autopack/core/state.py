"""Run state: the status of each phase, with the allowed transitions. Serialisable (JSON) so a run
can resume from the output folder (locally) or from the tracking comment (on GitHub)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.edits.changeset import OpResult
from autopack.core.governance.requests import GovernanceRequest
from autopack.core.usage import Usage
from autopack.errors import TransitionError


class PhaseStatus(StrEnum):
    pending = "pending"
    building = "building"
    applying = "applying"
    committed = "committed"
    failed = "failed"
    blocked = "blocked"  # a dependency did not commit
    awaiting_approval = "awaiting_approval"  # held: its ops touch protected paths
    denied = "denied"  # a maintainer denied its governance request

    @property
    def final(self) -> bool:
        return self in (
            PhaseStatus.committed,
            PhaseStatus.failed,
            PhaseStatus.blocked,
            PhaseStatus.denied,
        )


_ALLOWED: dict[PhaseStatus, frozenset[PhaseStatus]] = {
    PhaseStatus.pending: frozenset(
        {PhaseStatus.building, PhaseStatus.blocked, PhaseStatus.committed}
    ),
    PhaseStatus.building: frozenset(
        {PhaseStatus.applying, PhaseStatus.failed, PhaseStatus.awaiting_approval}
    ),
    PhaseStatus.applying: frozenset(
        {PhaseStatus.committed, PhaseStatus.failed, PhaseStatus.building}
    ),
    PhaseStatus.committed: frozenset(),
    # A failed or blocked phase is retried on the next run.
    PhaseStatus.failed: frozenset({PhaseStatus.pending}),
    PhaseStatus.blocked: frozenset({PhaseStatus.pending}),
    # Approved: the held ops are re-applied; denied; a failed re-apply; superseded or expired: rebuilt.
    PhaseStatus.awaiting_approval: frozenset(
        {PhaseStatus.applying, PhaseStatus.denied, PhaseStatus.failed, PhaseStatus.pending}
    ),
    PhaseStatus.denied: frozenset(),
}


class PhaseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    title: str
    status: PhaseStatus = PhaseStatus.pending
    reason: str = ""
    commit_sha: str | None = None
    resumed: bool = Field(default=False, description="Committed by an earlier run")
    ops: list[OpResult] = Field(default_factory=list)
    changed_paths: list[str] = Field(default_factory=list)
    requests: int = 0
    usage: Usage = Usage()
    cost_usd: float = 0.0
    patch_file: str | None = None

    def move(self, to: PhaseStatus, reason: str = "") -> None:
        if to not in _ALLOWED[self.status]:
            raise TransitionError(f"phase {self.id}: cannot go from {self.status} to {to}")
        self.status = to
        self.reason = reason

    def carried(self) -> PhaseRecord:
        """This record as a later run keeps it: its ops and commit stay; the run that spent its
        requests, usage and cost counted them, so the copy carries none."""
        zero = {"requests": 0, "usage": Usage(), "cost_usd": 0.0, "resumed": True}
        return self.model_copy(deep=True, update=zero)

    @property
    def ops_applied(self) -> int:
        return sum(1 for r in self.ops if r.status == "applied")


class RunState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    branch: str
    base_sha: str = ""
    goal: str = ""
    phases: list[PhaseRecord] = Field(default_factory=list)
    pr_url: str | None = None
    requests: list[GovernanceRequest] = Field(default_factory=list)

    def phase(self, phase_id: str) -> PhaseRecord:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def keep_unrun(
        self, previous: RunState, runs: Callable[[str], bool], done: Mapping[str, str]
    ) -> None:
        """A run of only some phases (a follow-up: `runs` says which) keeps every other phase as
        `previous` left it, unless it is committed on the branch (`done`, from the trailers).
        The run that spent their usage and cost counted it, so the copies carry none."""
        before = {r.id: r for r in previous.phases}
        for i, record in enumerate(self.phases):
            old = before.get(record.id)
            if old is not None and not runs(record.id) and record.id not in done:
                self.phases[i] = old.carried()

    @property
    def succeeded(self) -> bool:
        return all(p.status is PhaseStatus.committed for p in self.phases)

    @property
    def usage(self) -> Usage:
        return Usage.total(p.usage for p in self.phases)

    @property
    def cost_usd(self) -> float:
        return sum(p.cost_usd for p in self.phases)


class SpecOwner(BaseModel):
    """run.json, saved beside spec.json when a run starts: the run the spec belongs to. Runs that
    share an output folder overwrite spec.json at their start but state.json only at their end, so
    a resume checks the two are of the same run."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    branch: str
