"""The incremental NDJSON decoder: unit behaviour and hypothesis properties (any chunking yields the
same ops; a cut at any byte yields exactly the ops whose lines are complete, the tail reported)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autopack.core.edits.decoder import DecodedOp, MalformedLine, StreamDecoder, parse_line
from autopack.core.edits.ops import OP_ADAPTER, DoneOp, EditOp, Op, WriteOp, op_to_line

# -- strategies ------------------------------------------------------------------------------
# Text with unicode, multi-byte characters (é, 中, emoji), newlines, quotes and backslashes.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('\n\r\t"\\{}[]:,é中😀\u2028\x00 ')),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=40,
)
PATH = st.from_regex(r"[a-z][a-z0-9_]{0,8}(/[a-zé中][a-z0-9_.]{0,8}){0,2}", fullmatch=True)


def _op_body(kind: str, draw: Any) -> dict[str, Any]:
    if kind in ("write", "append"):
        return {"path": draw(PATH), "content": draw(TEXT)}
    if kind == "edit":
        return {"path": draw(PATH), "old": draw(TEXT), "new": draw(TEXT), "count": 2}
    if kind == "delete":
        return {"path": draw(PATH)}
    if kind == "rename":
        return {"path": draw(PATH), "to": draw(PATH)}
    if kind == "manifest":
        return {"files": [{"path": draw(PATH), "symbols": draw(st.lists(TEXT, max_size=2))}]}
    return {"summary": draw(TEXT)}


@st.composite
def streams(draw: Any) -> tuple[str, list[Op]]:
    kinds = draw(
        st.lists(
            st.sampled_from(["write", "append", "edit", "delete", "rename", "manifest", "done"]),
            min_size=1,
            max_size=6,
        )
    )
    lines, ops = [], []
    for n, kind in enumerate(kinds, 1):
        data = {"op": kind, "id": n, **_op_body(kind, draw)}
        ops.append(OP_ADAPTER.validate_python(data))
        lines.append(json.dumps(data, ensure_ascii=draw(st.booleans())))
        if draw(st.booleans()):
            lines.append("")  # blank lines are allowed between ops
    return "".join(line + "\n" for line in lines), ops


def _split(seq: Any, cuts: list[int]) -> list[Any]:
    points = sorted({c % (len(seq) + 1) for c in cuts})
    bounds = [0, *points, len(seq)]
    return [seq[a:b] for a, b in itertools.pairwise(bounds)]


def _ops(items: list[DecodedOp | MalformedLine]) -> list[Op]:
    assert all(isinstance(i, DecodedOp) for i in items), items
    return [i.op for i in items if isinstance(i, DecodedOp)]


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- properties ------------------------------------------------------------------------------
@FAST
@given(streams(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_str_chunking_yields_the_same_ops(
    stream: tuple[str, list[Op]], cuts: list[int]
) -> None:
    text, ops = stream
    decoder = StreamDecoder()
    out: list[DecodedOp | MalformedLine] = []
    for chunk in _split(text, cuts):
        out += decoder.feed(chunk)
    assert _ops(out) == ops
    assert decoder.tail == ""
    assert decoder.complete_text == text


@FAST
@given(streams(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_byte_chunking_yields_the_same_ops(
    stream: tuple[str, list[Op]], cuts: list[int]
) -> None:
    text, ops = stream
    data = text.encode("utf-8")
    decoder = StreamDecoder()
    out: list[DecodedOp | MalformedLine] = []
    for chunk in _split(data, cuts):  # cuts fall inside multi-byte characters too
        out += decoder.feed_bytes(chunk)
    assert _ops(out) == ops
    assert decoder.tail == ""
    assert decoder.complete_text == text


@FAST
@given(streams(), st.data())
def test_cut_at_any_byte_yields_exactly_the_complete_lines(
    stream: tuple[str, list[Op]], data: Any
) -> None:
    text, _ops_all = stream
    raw = text.encode("utf-8")
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)), label="cut")
    chunks = _split(raw[:cut], data.draw(st.lists(st.integers(0, 10_000), max_size=6)))
    decoder = StreamDecoder()
    out: list[DecodedOp | MalformedLine] = []
    for chunk in chunks:
        out += decoder.feed_bytes(chunk)
    # Expected: the ops of the lines whose newline is before the cut, nothing else.
    last_nl = raw.rfind(b"\n", 0, cut)
    complete = raw[: last_nl + 1].decode("utf-8")
    expected = [OP_ADAPTER.validate_json(line) for line in complete.split("\n") if line.strip()]
    assert _ops(out) == expected
    tail = raw[last_nl + 1 : cut]
    assert decoder.tail == tail.decode("utf-8", errors="replace")
    assert decoder.complete_text == complete


@FAST
@given(streams(), st.data())
def test_cut_at_any_character_yields_exactly_the_complete_lines(
    stream: tuple[str, list[Op]], data: Any
) -> None:
    text, _ops_all = stream
    cut = data.draw(st.integers(min_value=0, max_value=len(text)), label="cut")
    decoder = StreamDecoder()
    out = decoder.feed(text[:cut])
    last_nl = text.rfind("\n", 0, cut)
    expected = [
        OP_ADAPTER.validate_json(line) for line in text[: last_nl + 1].split("\n") if line.strip()
    ]
    assert _ops(out) == expected
    assert decoder.tail == text[last_nl + 1 : cut]


# -- unit behaviour --------------------------------------------------------------------------
def test_op_comes_out_as_soon_as_its_line_is_complete() -> None:
    line = '{"op":"write","id":1,"path":"a.py","content":"x = 1\\n"}'
    decoder = StreamDecoder()
    assert decoder.feed(line) == []
    assert decoder.tail == line
    out = decoder.feed("\n")
    assert [type(i) for i in out] == [DecodedOp]
    assert out[0].op == WriteOp(op="write", id=1, path="a.py", content="x = 1\n")
    assert out[0].line_no == 1
    assert decoder.tail == ""


def test_line_numbers_count_blank_lines_and_crlf_is_accepted() -> None:
    decoder = StreamDecoder()
    out = decoder.feed('\n{"op":"done","id":1,"summary":"s"}\r\n')
    assert len(out) == 1 and isinstance(out[0], DecodedOp)
    assert out[0].line_no == 2
    assert out[0].op == DoneOp(op="done", id=1, summary="s")
    assert decoder.lines_seen == 2


def test_malformed_line_is_reported_and_decoding_goes_on() -> None:
    decoder = StreamDecoder()
    out = decoder.feed('{"op":"done","id":1}\nnot json\n{"op":"done","id":2}\n')
    assert [type(i).__name__ for i in out] == ["DecodedOp", "MalformedLine", "DecodedOp"]
    bad = out[1]
    assert isinstance(bad, MalformedLine)
    assert bad.line_no == 2 and bad.raw == "not json"
    assert "not valid JSON" in bad.error and "column 1" in bad.error


def test_split_multibyte_character_across_byte_chunks() -> None:
    line = json.dumps(
        {"op": "write", "id": 1, "path": "é.txt", "content": "中😀"}, ensure_ascii=False
    )
    data = (line + "\n").encode("utf-8")
    split = data.index("😀".encode()) + 2  # inside the 4-byte emoji
    decoder = StreamDecoder()
    assert decoder.feed_bytes(data[:split]) == []
    out = decoder.feed_bytes(data[split:])
    assert isinstance(out[0], DecodedOp)
    assert out[0].op == WriteOp(op="write", id=1, path="é.txt", content="中😀")


def test_invalid_utf8_line_names_the_byte() -> None:
    decoder = StreamDecoder()
    out = decoder.feed_bytes(b'{"op":"done","id":1,"summary":"\xe9"}\n')
    assert isinstance(out[0], MalformedLine)
    assert out[0].error == "invalid UTF-8 at byte 31 of the line"


def test_parse_line_names_fields() -> None:
    bad = parse_line('{"op":"edit","id":1,"path":"a","old":"x","new":1,"colour":"red"}', 7)
    assert isinstance(bad, MalformedLine)
    assert bad.line_no == 7
    assert "new: Input should be a valid string" in bad.error
    assert "unknown field 'colour'" in bad.error


def test_op_to_line_round_trips() -> None:
    op = EditOp(op="edit", id=3, path="a/中.py", old="a\n", new="b\n", count=2)
    line = op_to_line(op)
    assert line.startswith('{"op": "edit", "id": 3')
    decoded = parse_line(line)
    assert isinstance(decoded, DecodedOp) and decoded.op == op


def test_a_long_line_in_small_chunks() -> None:
    content = "".join(f"line {i} é\n" for i in range(20_000))
    data = (
        json.dumps({"op": "write", "id": 1, "path": "big.txt", "content": content}) + "\n"
    ).encode()
    decoder = StreamDecoder()
    out: list[DecodedOp | MalformedLine] = []
    for i in range(0, len(data), 8):
        out += decoder.feed_bytes(data[i : i + 8])
    assert _ops(out) == [WriteOp(op="write", id=1, path="big.txt", content=content)]
