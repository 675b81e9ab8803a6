"""What the executor sends to and gets from a model: provider-neutral request/response models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.usage import Usage

StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
]
TRUNCATED: frozenset[str] = frozenset({"max_tokens", "model_context_window_exceeded"})


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class CacheMarks(BaseModel):
    """Where a request asks for prompt-cache breakpoints (core/budget/caching.py decides)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: bool = False  # after the system prompt
    messages: tuple[int, ...] = ()  # after these messages (0-based indexes)


class ModelRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    system: str
    messages: tuple[Message, ...]
    max_tokens: int = Field(gt=0)
    phase_id: str | None = Field(default=None, description="For replay and telemetry")
    purpose: Literal["build", "continue", "repair", "plan"] = "build"
    cache: CacheMarks = CacheMarks()


class ModelResponse(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    stop_reason: StopReason
    usage: Usage = Usage()
    elapsed_s: float | None = Field(default=None, description="Wall time, measured by the adapter")

    @property
    def truncated(self) -> bool:
        return self.stop_reason in TRUNCATED


TextSink = Callable[[str], None]
