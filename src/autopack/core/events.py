"""What the executor reports while it runs, for the face to act on (the Action keeps its tracking
comment live from these; the CLI ignores them). Typed events, not progress-line parsing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict


class PhaseStarted(BaseModel):
    """A phase began building (the model is about to be called)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["phase_started"] = "phase_started"
    phase_id: str
    title: str
    index: int
    total: int


class CheckPublished(BaseModel):
    """A phase's check run was published; `url` is where the forge put it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["check_published"] = "check_published"
    phase_id: str
    name: str
    url: str


RunEvent = PhaseStarted | CheckPublished
EventSink = Callable[[RunEvent], None]


def ignore(_event: RunEvent) -> None:
    """The sink of a face that does not act on events."""


__all__ = ["CheckPublished", "EventSink", "PhaseStarted", "RunEvent", "ignore"]
