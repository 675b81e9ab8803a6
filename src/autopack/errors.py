"""The one exception tree of Autopack. Adapters translate library errors into it (`raise ... from exc`).

AutopackError
├── SpecError               a run spec is invalid (carries every problem found)
├── EditError               an edit op cannot be applied
│   └── PathPolicyError     a path is outside the repo, under .git/, or otherwise refused
├── WorkspaceError          git or file-system work failed (dirty tree, push refused, ...)
├── ModelError              the model API failed
│   ├── RateLimitError      429 (retry_after when known)
│   ├── OverloadedError     529
│   ├── ServerError         other 5xx
│   ├── ModelConnectionError  the connection dropped or timed out (mid-stream included)
│   ├── ModelRequestError   4xx other than 429: bad request, auth, not found
│   ├── ReplayError         a replay transcript is malformed or exhausted
│   └── ModelUnavailableError  a phase needs the model but no client can be made
├── ForgeError              the forge (GitHub or local) refused an operation
├── SuiteRunError            the repo's tests could not be started or parsed
├── SetupError              the managed test environment or the setup command failed
├── GovernanceError         a governance decision is refused (tampered ops, moved head, ...)
├── TransitionError         a phase was moved between states its lifecycle does not connect
├── ConfigError             the repo's .autopack.yml is invalid
└── RecordError             a JSONL record file (estimate/bench input) is malformed
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autopack.core.usage import Usage


class AutopackError(Exception):
    """Base class of every error Autopack raises on purpose."""


class SpecError(AutopackError):
    """A run spec is invalid. `problems` lists every problem, each naming its field."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{where}invalid run spec ({len(self.problems)} problem(s)):\n{lines}")


class EditError(AutopackError):
    """An edit op cannot be applied."""


class PathPolicyError(EditError):
    """A path is refused by the path policy."""


class WorkspaceError(AutopackError):
    """Git or file-system work failed."""


class ModelError(AutopackError):
    """The model API failed."""

    retryable: bool = False


class RateLimitError(ModelError):
    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverloadedError(ModelError):
    retryable = True


class ServerError(ModelError):
    retryable = True


class ModelConnectionError(ModelError):
    """The connection dropped or timed out; `partial_text` holds what arrived before.
    `mid_stream` is False when no response stream was ever opened (e.g. cannot connect)."""

    retryable = True

    def __init__(
        self,
        message: str,
        partial_text: str = "",
        usage: Usage | None = None,
        mid_stream: bool = True,
    ) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.usage = usage  # what the API reported before the drop (input, cache), if anything
        self.mid_stream = mid_stream


class ModelRequestError(ModelError):
    """A 4xx other than 429: not retryable."""


class ReplayError(ModelError):
    """A replay transcript is malformed or has no response left for a request."""


class ModelUnavailableError(ModelError):
    """A phase needs a model call, but no model client can be made (no API key, no replay)."""


class ForgeError(AutopackError):
    """The forge refused an operation."""


class SuiteRunError(AutopackError):
    """The repo's tests could not be started or their report could not be read."""


class SetupError(AutopackError):
    """The managed test environment could not be made, or the setup command failed (the message
    has its exit status and the tail of its output)."""


class GovernanceError(AutopackError):
    """A governance decision is refused."""


class ConfigError(AutopackError):
    """The repo's `.autopack.yml` is invalid; the message names the file and each bad field."""


class RecordError(AutopackError):
    """A JSONL record file is malformed; the message names the file, line and field."""


class TransitionError(AutopackError):
    """A phase was asked to move between two states its lifecycle does not connect."""
