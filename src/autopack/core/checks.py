"""What a run publishes about a phase: check runs (same shape as GitHub's payload) and the PR it opens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CHECK_TEXT_LIMIT = 65_535  # GitHub's limit for check-run summary and text


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
    pending: bool = Field(
        default=False,
        description="The forge could not open it yet (the branch has no commit); ask again later",
    )
