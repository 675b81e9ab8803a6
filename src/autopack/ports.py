"""The ports of the core (typing.Protocol). Adapters implement them, one module each:
ModelClient (model_api.py: anthropic, replay), Workspace (git), Forge (github, local), Clock.
TestRunner is defined with the finalizer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from autopack.model_api import ModelClient

__all__ = [
    "Annotation",
    "CheckRun",
    "Clock",
    "Forge",
    "ModelClient",
    "PullRequestRef",
    "Workspace",
]

CHECK_TEXT_LIMIT = 65_535  # GitHub's limit for check-run summary and text


class Clock(Protocol):
    def now(self) -> datetime: ...


class Workspace(Protocol):
    """A checkout: file access confined to the repo, and the git work of a run."""

    @property
    def root(self) -> str: ...

    def read(self, path: str) -> bytes | None:
        """Content of a repo file, None if missing; PathPolicyError if it escapes the repo,
        is a symlink or is a directory."""
        ...

    def write_changes(self, changes: dict[str, bytes | None]) -> None:
        """Write each file atomically (temp file + rename); None deletes."""
        ...

    def discard_changes(self, paths: list[str]) -> None:
        """Restore `paths` to HEAD (removing files HEAD does not have)."""
        ...

    def diff(self, paths: list[str]) -> str:
        """Unified diff of `paths` (working tree against HEAD, new files included)."""
        ...

    def list_files(self) -> list[str]:
        """Tracked files of the checkout."""
        ...

    def head_sha(self) -> str: ...

    def prepare_branch(self, branch: str) -> str:
        """Check out `branch` (created at HEAD if new); returns the base commit SHA."""
        ...

    def committed_phases(self, base_sha: str) -> dict[str, str]:
        """Phase id -> commit SHA, from the trailers of commits after base_sha."""
        ...

    def commit_phase(
        self, phase_id: str, title: str, paths: list[str], trailers: dict[str, str]
    ) -> str: ...

    def push(self, branch: str) -> None: ...


class Annotation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    annotation_level: Literal["notice", "warning", "failure"]
    message: str
    title: str | None = None


class CheckRun(BaseModel):
    """Same shape as a GitHub check run's create/update payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    head_sha: str
    status: Literal["queued", "in_progress", "completed"] = "completed"
    conclusion: (
        Literal["success", "failure", "neutral", "cancelled", "skipped", "action_required"] | None
    ) = None
    title: str
    summary: str = Field(max_length=CHECK_TEXT_LIMIT)
    text: str = Field(default="", max_length=CHECK_TEXT_LIMIT)
    annotations: tuple[Annotation, ...] = ()


class PullRequestRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    url: str
    draft: bool = True


class Forge(Protocol):
    """Where a run's results go: GitHub, or files under an output folder."""

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, draft: bool = True
    ) -> PullRequestRef:
        """Open the PR for `head`, or update the body of the one already open."""
        ...

    def upsert_comment(self, key: str, body: str) -> None:
        """Create the comment identified by `key`, or edit it in place when it exists."""
        ...

    def publish_check_run(self, check: CheckRun) -> None:
        """Create or update the check run of that name on that head SHA."""
        ...

    def save_artifact(self, name: str, text: str) -> str:
        """Keep a file of the run (state, patches, telemetry); returns where it went."""
        ...
