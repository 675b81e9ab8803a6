"""A ModelClient that serves recorded responses from a JSONL transcript, for tests, the demo and
`autopack run --replay FILE`.

Each line: {"text": "...", "stop_reason": "end_turn", "usage": {...}, "phase": "optional-id",
"purpose": "optional build|continue|repair|plan"}. Records with a `phase` are served only to requests
for that phase, in order, so a resumed run that skips committed phases still gets the right ones."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from autopack.core.jsonl import LineProblem, parse_jsonl
from autopack.core.usage import Usage
from autopack.errors import ReplayError
from autopack.ports import ModelRequest, ModelResponse, StopReason, TextSink


class ReplayRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    stop_reason: StopReason = "end_turn"
    usage: Usage = Usage()
    phase: str | None = None
    purpose: str | None = None
    chunk_size: int = 64  # characters per streamed chunk


def load_transcript(path: str | Path) -> list[ReplayRecord]:
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ReplayError(f"cannot read replay transcript {p}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ReplayError(f"replay transcript {p} is not UTF-8 (byte {exc.start})") from None
    return parse_transcript(lines, str(p))


def parse_transcript(lines: Iterable[str], source: str = "transcript") -> list[ReplayRecord]:
    def error(p: LineProblem) -> ReplayError:
        return ReplayError(f"{source}:{p.line}: {p.field or 'line'}: {p.message}")

    return parse_jsonl(lines, ReplayRecord, error)


class ReplayModelClient:
    def __init__(self, records: Iterable[ReplayRecord]) -> None:
        self._records = list(records)
        self._used = [False] * len(self._records)
        self.requests: list[ModelRequest] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ReplayModelClient:
        return cls(load_transcript(path))

    def _next(self, request: ModelRequest) -> ReplayRecord:
        for i, rec in enumerate(self._records):
            if self._used[i]:
                continue
            if rec.phase is not None and rec.phase != request.phase_id:
                continue
            if rec.purpose is not None and rec.purpose != request.purpose:
                continue
            self._used[i] = True
            return rec
        raise ReplayError(
            f"replay transcript has no response left for phase {request.phase_id!r} "
            f"({request.purpose} request {len(self.requests)})"
        )

    def stream(self, request: ModelRequest, on_text: TextSink) -> ModelResponse:
        self.requests.append(request)
        rec = self._next(request)
        step = max(1, rec.chunk_size)
        for i in range(0, len(rec.text), step):
            on_text(rec.text[i : i + step])
        return ModelResponse(text=rec.text, stop_reason=rec.stop_reason, usage=rec.usage)

    @property
    def unused(self) -> int:
        return self._used.count(False)


def dump_transcript(records: Iterable[ReplayRecord]) -> str:
    return "".join(
        json.dumps(r.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False) + "\n"
        for r in records
    )
