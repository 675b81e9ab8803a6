"""The ports of the core: every typing.Protocol the app layer drives, and where their payload
types live. Adapters implement them, one module each:

- ModelClient (anthropic, replay, lazy): payloads in core/model_io.py; TokenCounter (anthropic,
  lazy), which a model client may also be
- Workspace (git, github push; fakes.MemoryWorkspace)
- Forge (github, local; fakes.RecordingForge): payloads in core/checks.py
- SuiteRunner (pytest), BaselineStore (baseline cache), Linter (ruff): payloads in
  core/gates/
- Finalizer (app/finalizer.py), AuditLog (governance store; core MemoryAuditLog), Clock (clock)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from autopack.core.checks import CHECK_TEXT_LIMIT, Annotation, CheckRun, PullRequestRef
from autopack.core.edits.changeset import ChangeSet
from autopack.core.gates.decision import LintIssue, PhaseDecision
from autopack.core.gates.test_report import SuiteReport
from autopack.core.governance.requests import AuditEntry
from autopack.core.model_io import (
    TRUNCATED,
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextSink,
)
from autopack.core.spec import Phase

__all__ = [
    "CHECK_TEXT_LIMIT",
    "TRUNCATED",
    "Annotation",
    "AuditLog",
    "BaselineStore",
    "CheckRun",
    "Clock",
    "Finalizer",
    "Forge",
    "Linter",
    "Message",
    "ModelClient",
    "ModelRequest",
    "ModelResponse",
    "PullRequestRef",
    "StopReason",
    "SuiteRunner",
    "TextSink",
    "TokenCounter",
    "Workspace",
]


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

    def remove_new_files(self, paths: list[str]) -> None:
        """Delete untracked files the caller saw appear (not in an earlier `dirty_paths`, so
        never the user's): what the test runs wrote."""
        ...

    def dirty_paths(self) -> set[str]:
        """Files that differ from HEAD: tracked ones changed or deleted, and untracked ones that
        git does not ignore."""
        ...

    def head_sha(self) -> str: ...

    def prepare_branch(self, branch: str) -> str:
        """Check out `branch` (created at HEAD if new); returns the base commit SHA."""
        ...

    def committed_phases(self, base_sha: str) -> dict[str, str]:
        """Phase id -> commit SHA, from the trailers of commits after base_sha."""
        ...

    def commit_trailers(self, sha: str) -> dict[str, str]:
        """The trailers (`Key: value` lines at the end of the message) of commit `sha`."""
        ...

    def commit_phase(
        self, phase_id: str, title: str, paths: list[str], trailers: dict[str, str]
    ) -> str: ...

    def push(self, branch: str) -> None: ...


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

    def publish_check_run(self, check: CheckRun) -> str:
        """Create or update the check run of that name on that head SHA; returns its URL (or
        where it was written)."""
        ...

    def save_artifact(self, name: str, text: str) -> str:
        """Keep a file of the run (state, patches, telemetry); returns where it went."""
        ...


class ModelClient(Protocol):
    """Streams one request. `on_text` gets the text as it arrives; the full response is returned."""

    def stream(self, request: ModelRequest, on_text: TextSink) -> ModelResponse: ...


@runtime_checkable
class TokenCounter(Protocol):
    """Exact input tokens of texts for `model` (a free counting endpoint), or None when it cannot
    tell (offline, refused): the caller then estimates."""

    def count_tokens(self, model: str, texts: Sequence[str]) -> list[int] | None: ...


class SuiteRunner(Protocol):
    """Runs a repo's test suite in `root` (the whole suite, or only `select`: node ids or paths).
    Raises SuiteRunError when the tests cannot start or their report cannot be read."""

    def run(self, root: str, select: Sequence[str] | None = None) -> SuiteReport: ...

    @property
    def config_key(self) -> str:
        """Identifies the command and settings, so a cached result is reused only for the same."""
        ...


class BaselineStore(Protocol):
    def load(self, key: str) -> SuiteReport | None: ...

    def save(self, key: str, report: SuiteReport) -> None: ...


class Linter(Protocol):
    def lint(self, root: str, paths: Sequence[str]) -> list[LintIssue]: ...


class Finalizer(Protocol):
    """Decides on a phase whose changes are written to the working tree (not yet committed)."""

    def prepare(self) -> None:
        """Called with the working tree at HEAD, before a phase's changes are written: what the
        phase will be compared with (the test baseline) is captured now."""
        ...

    def finalize(self, phase: Phase, changes: ChangeSet) -> PhaseDecision: ...

    def committed(self, sha: str) -> None:
        """The finalized phase became commit `sha` (exactly the tree `finalize` judged)."""
        ...


class AuditLog(Protocol):
    """Where audit entries go (a JSONL file locally; the Action keeps them on GitHub)."""

    def append(self, entry: AuditEntry) -> None: ...

    def entries(self) -> list[AuditEntry]: ...
