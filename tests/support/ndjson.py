"""Helpers for continuation tests: a realistic NDJSON op stream and scripts that cut it."""

from __future__ import annotations

import json
from typing import Any

from support.messages_server import Reply


def ops_text(ops: list[dict[str, Any]], first_id: int = 1) -> str:
    lines = [
        json.dumps({"op": op["op"], "id": n, **{k: v for k, v in op.items() if k != "op"}})
        for n, op in enumerate(ops, first_id)
    ]
    return "\n".join(lines) + "\n"


def big_module(chunks: int, lines_per_chunk: int = 6) -> list[dict[str, Any]]:
    """Ops writing src/big.py in `chunks` chunks, editing src/app.py, then manifest and done."""
    ops: list[dict[str, Any]] = []
    for c in range(chunks):
        body = "".join(
            f"def f_{c}_{i}(x: int) -> int:\n    return x * {c + 1} + {i}  # é ✓\n\n\n"
            for i in range(lines_per_chunk)
        )
        ops.append({"op": "write" if c == 0 else "append", "path": "src/big.py", "content": body})
    ops.append({"op": "edit", "path": "src/app.py", "old": "return 'hi'", "new": "return 'hello'"})
    ops.append(
        {"op": "write", "path": "tests/test_big.py", "content": "def test_ok():\n    assert True\n"}
    )
    ops.append({"op": "manifest", "files": [{"path": "src/big.py", "symbols": ["f_0_0"]}]})
    ops.append({"op": "done", "summary": "Added big.py."})
    return ops


def line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [i + 1 for i, ch in enumerate(text) if ch == "\n" and i + 1 < len(text)]
    return starts


def cut_script(text: str, cuts: list[int]) -> tuple[list[Reply], list[str]]:
    """Replies that deliver `text` cut at the absolute offsets `cuts` (each a max_tokens stop),
    each continuation restarting at the line the previous cut was in (what the builder asks for).
    Also returns the partial (repeated) line of each cut."""
    replies, partials = [], []
    start = 0
    for cut in cuts:
        assert cut > start, "cuts must move forward"
        chunk = text[start:cut]
        keep = chunk.rfind("\n") + 1  # 0 when no complete line arrived
        replies.append(Reply(text=chunk, stop_reason="max_tokens"))
        partials.append(chunk[keep:])
        start += keep
    replies.append(Reply(text=text[start:], stop_reason="end_turn"))
    return replies, partials
