"""Typed models of the NDJSON edit ops (Contract 2, v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter


def _no_lone_surrogate(value: str) -> str:
    """JSON lets a model write `\\ud800` alone; such text cannot be encoded (UTF-8, digests,
    check runs, commits), so the op is refused with a reason the model can act on. (File content
    is checked where it is applied, which names the file.)"""
    bad = next((c for c in value if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        raise ValueError(
            f"contains a lone surrogate U+{ord(bad):04X} (not valid Unicode text): write the "
            "character itself, or escape both halves of a surrogate pair"
        )
    return value


Text = Annotated[str, AfterValidator(_no_lone_surrogate)]


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
    symbols: list[Text] = Field(default_factory=list)


class ManifestOp(_Op):
    op: Literal["manifest"]
    files: list[ManifestFile]


class DoneOp(_Op):
    op: Literal["done"]
    summary: Text = ""


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
