"""JSONL records: one pydantic model per non-blank line, validated as it is read.

Each caller keeps its own error class and wording: `parse_jsonl` hands it a `LineProblem` (line
number, dotted field, pydantic's message) and raises whatever exception the caller builds from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_JSON_PREFIX = "Invalid JSON: "


@dataclass(frozen=True)
class LineProblem:
    """The first problem of a bad line."""

    line: int  # 1-based
    field: str  # dotted location in the record; "" when the whole line is wrong
    message: str  # pydantic's message, e.g. "Field required" or "Invalid JSON: EOF while ..."
    invalid_json: bool  # the line is not JSON at all

    @property
    def json_detail(self) -> str:
        """The JSON syntax error without pydantic's "Invalid JSON: " prefix."""
        return self.message.removeprefix(_JSON_PREFIX)


def parse_jsonl(
    lines: Iterable[str], model: type[M], error: Callable[[LineProblem], Exception]
) -> list[M]:
    """Validate every non-blank line as `model`; the first bad line raises `error(problem)`."""
    out: list[M] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(model.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            problem = LineProblem(
                line=n,
                field=".".join(str(x) for x in first["loc"]),
                message=first["msg"],
                invalid_json=first["type"] == "json_invalid",
            )
            raise error(problem) from None
    return out
