"""Output-size estimator (layer 1 of the token budget): how many tokens will a phase's output take?

Pure: the constants (`data/estimator.json`) are read at the edge (adapters/package_data.py) and
handed in as EstimatorParams. It predicts two
output shapes from what a run knows *before* calling the model -- the goal text, each deliverable's
path and action, and the size of each existing file as read from the workspace:

- `full_file_tokens`: every created / modified / renamed file emitted whole (write ops, or a
  builder that returns files). A modified file's new content is about its current size
  (`modify_growth`, 1.0); a created file of unknown size counts `create_tokens`.
- `edit_tokens`: NDJSON edit ops (contract 2). A created (or explicitly rewritten) file is still
  written whole; a modified file costs `edit_tokens_per_file * n ** edit_scope_exponent`, where
  `n` is the number of files the phase creates or modifies (wider phases make wider changes per
  file); a delete or rename is a short op (`delete_op_tokens`, `rename_op_tokens`). Edit size is
  nearly independent of the file's size (dev: one-file diffs have a median of ~250 tokens for
  files from 100 to 45,000 tokens), which is why no size term appears.

The goal text is accepted (a runtime caller has it) but not used: on the dev set no goal feature
(length, verbs such as "fix"/"add"/"typo") beat noise consistently across repositories.

How sizes become tokens (`tokens_of`): a caller reads files from disk and knows `chars` and
`lines`; tokens are optional. When `tokens` is given (e.g. from the token-counting endpoint, or
the bench records) it is used as is. Otherwise tokens = chars / `chars_per_token` (3.6, the median
of existing files; code with long identifiers is denser, prose sparser), and with neither,
tokens = lines * `tokens_per_line` (8.7). A modified file with no size at all cannot be estimated:
its path is listed in `Estimate.unknown_paths` and the budget policy falls back to static budgets.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

Action = Literal["create", "modify", "delete", "rename"]


class EstimatorParams(BaseModel):
    """The estimator's constants; defaults come from `data/estimator.json`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    chars_per_token: float = Field(gt=0)
    tokens_per_line: float = Field(gt=0)
    modify_growth: float = Field(gt=0)
    create_tokens: NonNegativeInt
    edit_tokens_per_file: NonNegativeInt
    edit_scope_exponent: float = Field(ge=0)
    delete_op_tokens: NonNegativeInt
    rename_op_tokens: NonNegativeInt


class DeliverableSize(BaseModel):
    """One deliverable as a run sees it before calling the model. Sizes are of the existing file
    (for rename: the file at `old_path`); all None for a file that does not exist yet.
    `rewrite` asks for the file to be written whole even though it exists."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    action: Action
    old_path: str | None = None
    lines: NonNegativeInt | None = None
    chars: NonNegativeInt | None = None
    tokens: NonNegativeInt | None = None
    rewrite: bool = False


class EstimateInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    goal: str = ""
    deliverables: list[DeliverableSize] = Field(default_factory=list)


class DeliverableEstimate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    action: Action
    whole: bool  # written whole even in edit format (created or rewritten)
    full_file_tokens: int
    edit_tokens: int


class Estimate(BaseModel):
    """Predicted output tokens of a phase, in total and per deliverable (in input order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_file_tokens: int
    edit_tokens: int
    deliverables: list[DeliverableEstimate]
    unknown_paths: list[str] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every deliverable could be sized (and there is at least one)."""
        return bool(self.deliverables) and not self.unknown_paths

    def tokens_for(self, fmt: Literal["edit", "whole"]) -> int:
        return self.edit_tokens if fmt == "edit" else self.full_file_tokens


def tokens_of(
    *,
    tokens: int | None,
    chars: int | None,
    lines: int | None,
    params: EstimatorParams,
) -> float | None:
    """Tokens of an existing file: `tokens` if known, else chars / chars_per_token, else
    lines * tokens_per_line, else None."""
    p = params
    if tokens is not None:
        return float(tokens)
    if chars is not None:
        return chars / p.chars_per_token
    if lines is not None:
        return lines * p.tokens_per_line
    return None


def estimate(inp: EstimateInput, params: EstimatorParams) -> Estimate:
    """Predict whole-file and edit-op output tokens for one phase."""
    p = params
    producing = sum(d.action in ("create", "modify") for d in inp.deliverables)
    scope = max(producing, 1) ** p.edit_scope_exponent
    rows: list[DeliverableEstimate] = []
    unknown: list[str] = []
    for d in inp.deliverables:
        size = tokens_of(tokens=d.tokens, chars=d.chars, lines=d.lines, params=p)
        whole = d.action == "create" or (d.rewrite and d.action != "delete")
        if d.action == "delete":
            full, edit = 0.0, float(p.delete_op_tokens)
        elif d.action == "create":
            full = float(p.create_tokens) if size is None else size
            edit = full
        elif size is None:
            unknown.append(d.path)
            full, edit = 0.0, 0.0
        elif d.action == "rename":
            full = size * p.modify_growth
            edit = full if whole else float(p.rename_op_tokens)
        else:  # modify
            full = size * p.modify_growth
            edit = full if whole else p.edit_tokens_per_file * scope
        rows.append(
            DeliverableEstimate(
                path=d.path,
                action=d.action,
                whole=whole,
                full_file_tokens=math.ceil(full),
                edit_tokens=math.ceil(edit),
            )
        )
    return Estimate(
        full_file_tokens=sum(r.full_file_tokens for r in rows),
        edit_tokens=sum(r.edit_tokens for r in rows),
        deliverables=rows,
        unknown_paths=unknown,
    )
