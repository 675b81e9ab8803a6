"""Typed models of the NDJSON edit ops (Contract 2, v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: int = Field(ge=1)


class WriteOp(_Op):
    op: Literal["write"]
    path: str
    content: str


class AppendOp(_Op):
    op: Literal["append"]
    path: str
    content: str


class EditOp(_Op):
    op: Literal["edit"]
    path: str
    old: str
    new: str
    count: int = Field(default=1, ge=1)


class DeleteOp(_Op):
    op: Literal["delete"]
    path: str


class RenameOp(_Op):
    op: Literal["rename"]
    path: str
    to: str


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    path: str
    symbols: list[str] = Field(default_factory=list)


class ManifestOp(_Op):
    op: Literal["manifest"]
    files: list[ManifestFile]


class DoneOp(_Op):
    op: Literal["done"]
    summary: str = ""


Op = Annotated[
    WriteOp | AppendOp | EditOp | DeleteOp | RenameOp | ManifestOp | DoneOp,
    Field(discriminator="op"),
]
OP_NAMES = ("write", "append", "edit", "delete", "rename", "manifest", "done")
OP_ADAPTER: TypeAdapter[Op] = TypeAdapter(Op)


def op_to_line(op: _Op) -> str:
    """One NDJSON line (no trailing newline) for `op`, with `op` and `id` first."""
    data = op.model_dump(mode="json", exclude_defaults=False)
    ordered = {"op": data.pop("op"), "id": data.pop("id"), **data}
    import json

    return json.dumps(ordered, ensure_ascii=False)
