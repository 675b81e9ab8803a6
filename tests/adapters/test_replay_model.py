"""The replay ModelClient: JSONL transcripts, routing by phase and purpose, streaming, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.adapters.replay_model import (
    ReplayModelClient,
    ReplayRecord,
    dump_transcript,
    load_transcript,
    parse_transcript,
)
from autopack.core.usage import Usage
from autopack.errors import ReplayError
from autopack.ports import Message, ModelRequest


def request(phase: str | None, purpose: str = "build") -> ModelRequest:
    return ModelRequest(
        model="m",
        system="s",
        messages=(Message(role="user", content="go"),),
        max_tokens=100,
        phase_id=phase,
        purpose=purpose,  # type: ignore[arg-type]
    )


def test_streams_in_chunks_and_returns_the_response() -> None:
    client = ReplayModelClient(
        [
            ReplayRecord(
                text="abcdefghij",
                stop_reason="max_tokens",
                usage=Usage(output_tokens=3),
                chunk_size=4,
            )
        ]
    )
    chunks: list[str] = []
    response = client.stream(request(None), chunks.append)
    assert chunks == ["abcd", "efgh", "ij"]
    assert response.text == "abcdefghij" and response.truncated
    assert response.usage.output_tokens == 3
    assert client.unused == 0 and len(client.requests) == 1


def test_records_are_routed_by_phase_and_purpose_in_order() -> None:
    client = ReplayModelClient(
        [
            ReplayRecord(text="b1", phase="b"),
            ReplayRecord(text="a1", phase="a"),
            ReplayRecord(text="a-repair", phase="a", purpose="repair"),
            ReplayRecord(text="a2", phase="a"),
            ReplayRecord(text="any"),
        ]
    )
    sink: list[str] = []
    assert client.stream(request("a"), sink.append).text == "a1"
    assert client.stream(request("a", "repair"), sink.append).text == "a-repair"
    assert client.stream(request("a"), sink.append).text == "a2"
    assert client.stream(request("b"), sink.append).text == "b1"
    assert client.stream(request("c"), sink.append).text == "any"
    with pytest.raises(ReplayError, match="no response left for phase 'c'"):
        client.stream(request("c"), sink.append)


def test_dump_and_load_round_trip(tmp_path: Path) -> None:
    records = [
        ReplayRecord(text='{"op":"done","id":1}\n', phase="a", usage=Usage(output_tokens=9)),
        ReplayRecord(text="中文 😀\n", stop_reason="max_tokens", chunk_size=3),
    ]
    path = tmp_path / "t.jsonl"
    path.write_text(dump_transcript(records), encoding="utf-8")
    assert load_transcript(path) == records
    assert ReplayModelClient.from_file(path).unused == 2


def test_blank_lines_are_skipped_and_errors_name_the_line() -> None:
    good = '{"text": "x"}'
    assert len(parse_transcript([good, "", "   ", good])) == 2
    with pytest.raises(ReplayError, match=r"^t\.jsonl:3: line: Invalid JSON"):
        parse_transcript([good, "", "{oops"], "t.jsonl")
    with pytest.raises(ReplayError, match=r"^t\.jsonl:1: usage\.output_tokens: Input should be"):
        parse_transcript(['{"text": "x", "usage": {"output_tokens": "many"}}'], "t.jsonl")
    with pytest.raises(ReplayError, match=r"^t\.jsonl:1: text: Field required"):
        parse_transcript(['{"stop_reason": "end_turn"}'], "t.jsonl")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read replay transcript"):
        load_transcript(tmp_path / "missing.jsonl")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"text": "\xff"}\n')
    with pytest.raises(ReplayError, match=r"bin\.jsonl.*not UTF-8"):
        load_transcript(binary)
