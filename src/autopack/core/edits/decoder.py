"""Incremental NDJSON decoder: feed any chunks (str or bytes); an op comes out as soon as its line is
complete. The incomplete tail is kept and reported, never guessed at."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from autopack.core.edits.ops import OP_ADAPTER, OP_NAMES, Op


@dataclass(frozen=True)
class DecodedOp:
    line_no: int
    op: Op
    raw: str


@dataclass(frozen=True)
class MalformedLine:
    line_no: int
    raw: str
    error: str


Decoded = DecodedOp | MalformedLine


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        # Drop the discriminator tag pydantic puts first ("write", "edit", ...).
        if loc and loc[0] in OP_NAMES:
            loc = loc[1:]
        where = ".".join(loc) or "line"
        if err["type"] == "missing":
            parts.append(f"missing field {where!r}")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown field {where!r}")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_line(text: str, line_no: int = 0) -> Decoded:
    """Decode one complete line (without its newline) into an op or a MalformedLine."""
    raw = text.rstrip("\r")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return MalformedLine(line_no, raw, f"not valid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(data, dict):
        return MalformedLine(line_no, raw, f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("op")
    if kind is None:
        return MalformedLine(line_no, raw, "missing field 'op'")
    if kind not in OP_NAMES:
        return MalformedLine(
            line_no, raw, f"unknown op {kind!r} (expected one of: {', '.join(OP_NAMES)})"
        )
    try:
        op = OP_ADAPTER.validate_python(data)
    except ValidationError as exc:
        return MalformedLine(line_no, raw, f"invalid {kind!r} op: {_describe_validation(exc)}")
    return DecodedOp(line_no, op, raw)


class StreamDecoder:
    """Splits a stream into lines and decodes each complete one. Blank lines are skipped.

    `complete_text` is the stream up to and including its last newline: what a continuation keeps.
    Feed str with `feed` or bytes with `feed_bytes` (not both on one decoder)."""

    def __init__(self) -> None:
        # Chunks of the incomplete last line, joined only when a newline arrives (no rescans).
        self._parts: list[str] = []
        self._byte_parts: list[bytes] = []
        self._complete: list[str] = []
        self._line_no = 0

    @property
    def tail(self) -> str:
        """The incomplete last line (no newline yet)."""
        if self._byte_parts:
            return b"".join(self._byte_parts).decode("utf-8", errors="replace")
        return "".join(self._parts)

    @property
    def complete_text(self) -> str:
        return "".join(self._complete)

    @property
    def lines_seen(self) -> int:
        return self._line_no

    def feed(self, chunk: str) -> list[Decoded]:
        self._parts.append(chunk)
        if "\n" not in chunk:
            return []
        *lines, rest = "".join(self._parts).split("\n")
        self._parts = [rest] if rest else []
        out: list[Decoded] = []
        for line in lines:
            out.extend(self._line(line))
        return out

    def feed_bytes(self, chunk: bytes) -> list[Decoded]:
        self._byte_parts.append(chunk)
        if b"\n" not in chunk:
            return []
        *lines, rest = b"".join(self._byte_parts).split(b"\n")
        self._byte_parts = [rest] if rest else []
        out: list[Decoded] = []
        for line in lines:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                self._line_no += 1
                shown = line.decode("utf-8", errors="replace")
                self._complete.append(shown + "\n")
                error = f"invalid UTF-8 at byte {exc.start} of the line"
                out.append(MalformedLine(self._line_no, shown, error))
                continue
            out.extend(self._line(text))
        return out

    def _line(self, line: str) -> list[Decoded]:
        self._line_no += 1
        self._complete.append(line + "\n")
        if not line.strip():
            return []
        return [parse_line(line, self._line_no)]
