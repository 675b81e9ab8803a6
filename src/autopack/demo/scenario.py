"""The demo's built-in material: a small Python package with pytest tests, a run spec, and the model's
responses as ops. Each phase's responses are listed as op dicts, so extending the demo means adding a
phase and its ops here; `transcript()` turns them into replay records."""

from __future__ import annotations

import json
from typing import Any

from autopack.adapters.replay_model import ReplayRecord
from autopack.core.usage import Usage

REPO_FILES: dict[str, str] = {
    "README.md": "# calc\n\nA tiny calculator package.\n",
    "pyproject.toml": (
        '[project]\nname = "calc"\nversion = "0.1.0"\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["src"]\n'
    ),
    "src/calc/__init__.py": '"""A tiny calculator."""\n\nfrom calc.ops import add, sub\n\n'
    '__all__ = ["add", "sub"]\n',
    "src/calc/ops.py": (
        '"""Arithmetic operations."""\n\n\n'
        "def add(a: float, b: float) -> float:\n    return a + b\n\n\n"
        "def sub(a: float, b: float) -> float:\n    return a - b\n"
    ),
    "tests/test_ops.py": (
        "from calc.ops import add, sub\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_sub():\n    assert sub(5, 3) == 2\n"
    ),
}

SPEC: dict[str, Any] = {
    "goal": "Add multiplication and division to the calc package, with tests and docs",
    "model": "claude-sonnet-5-5",
    "phases": [
        {
            "id": "multiply",
            "title": "Add mul()",
            "goal": "Add a mul(a, b) function to calc.ops, export it, and test it.",
            "complexity": "low",
            "category": "backend",
            "deliverables": [
                {"path": "src/calc/ops.py", "action": "modify"},
                {"path": "src/calc/__init__.py", "action": "modify"},
                {"path": "tests/test_mul.py", "action": "create"},
            ],
            "validation_tests": ["tests/test_mul.py"],
        },
        {
            "id": "divide",
            "title": "Add div() built on mul()",
            "goal": "Add div(a, b) raising ZeroDivisionError with a clear message; test it.",
            "complexity": "medium",
            "category": "backend",
            "depends_on": ["multiply"],
            "deliverables": [
                {"path": "src/calc/ops.py", "action": "modify"},
                {"path": "tests/test_div.py", "action": "create"},
            ],
            "validation_tests": ["tests/test_div.py"],
        },
        {
            "id": "power",
            "title": "Add power() built on mul()",
            "goal": "Add power(a, n) for integer n >= 0 by repeated multiplication; test it.",
            "complexity": "low",
            "category": "backend",
            "depends_on": ["divide"],
            "deliverables": [
                {"path": "src/calc/ops.py", "action": "modify"},
                {"path": "tests/test_power.py", "action": "create"},
            ],
            "validation_tests": ["tests/test_power.py"],
        },
        {
            "id": "docs",
            "title": "Document the operations",
            "goal": "Describe every operation in docs/usage.md and link it from the README.",
            "complexity": "low",
            "category": "docs",
            "deliverables": [
                {"path": "docs/usage.md", "action": "create"},
                {"path": "README.md", "action": "modify"},
            ],
        },
        {
            # `.env.example` is a protected path: this phase is held for a maintainer's approval.
            "id": "settings",
            "title": "Document the settings",
            "goal": "List the environment settings calc reads in .env.example.",
            "complexity": "low",
            "category": "config",
            "deliverables": [{"path": ".env.example", "action": "create"}],
        },
    ],
}

OPS_ADD = "\n\ndef sub(a: float, b: float) -> float:\n    return a - b\n"

# phase id -> list of responses; each response is (ops, stop_reason)
RESPONSES: dict[str, list[tuple[list[dict[str, Any]], str]]] = {
    "multiply": [
        (
            [
                {
                    "op": "edit",
                    "path": "src/calc/ops.py",
                    "old": OPS_ADD,
                    "new": OPS_ADD
                    + "\n\ndef mul(a: float, b: float) -> float:\n    return a * b\n",
                },
                {
                    "op": "edit",
                    "path": "src/calc/__init__.py",
                    "old": 'from calc.ops import add, sub\n\n__all__ = ["add", "sub"]',
                    "new": 'from calc.ops import add, mul, sub\n\n__all__ = ["add", "mul", "sub"]',
                },
                {
                    "op": "write",
                    "path": "tests/test_mul.py",
                    "content": "from calc import mul\n\n\ndef test_mul():\n    assert mul(3, 4) == 12\n",
                },
                {
                    "op": "manifest",
                    "files": [
                        {"path": "src/calc/ops.py", "symbols": ["mul"]},
                        {"path": "tests/test_mul.py", "symbols": ["test_mul"]},
                    ],
                },
                {"op": "done", "summary": "Added mul() with a test."},
            ],
            "end_turn",
        )
    ],
    "divide": [
        (
            [
                {
                    "op": "edit",
                    "path": "src/calc/ops.py",
                    "old": "def mul(a: float, b: float) -> float:\n    return a * b\n",
                    "new": "def mul(a: float, b: float) -> float:\n    return a * b\n\n\n"
                    "def div(a: float, b: float) -> float:\n    if b == 0:\n"
                    '        raise ZeroDivisionError("div: the divisor is zero")\n'
                    "    return mul(a, 1 / b)\n",
                },
                {
                    "op": "write",
                    "path": "tests/test_div.py",
                    "content": "import pytest\n\nfrom calc.ops import div\n\n\n"
                    "def test_div():\n    assert div(12, 4) == 3\n\n\n"
                    "def test_div_by_zero():\n    with pytest.raises(ZeroDivisionError):\n"
                    "        div(1, 0)\n",
                },
                {
                    "op": "manifest",
                    "files": [
                        {"path": "src/calc/ops.py", "symbols": ["div"]},
                        {"path": "tests/test_div.py", "symbols": ["test_div", "test_div_by_zero"]},
                    ],
                },
                {"op": "done", "summary": "Added div() with tests, including division by zero."},
            ],
            "end_turn",
        )
    ],
    # The first attempt has an off-by-one that fails its validation test; the gates block it and
    # the repair round (REPAIRS below) fixes it in the same conversation.
    "power": [
        (
            [
                {
                    "op": "edit",
                    "path": "src/calc/ops.py",
                    "old": "    return mul(a, 1 / b)\n",
                    "new": "    return mul(a, 1 / b)\n\n\n"
                    "def power(a: float, n: int) -> float:\n    result = 1.0\n"
                    "    for _ in range(n + 1):\n        result = mul(result, a)\n"
                    "    return result\n",
                },
                {
                    "op": "write",
                    "path": "tests/test_power.py",
                    "content": "from calc.ops import power\n\n\n"
                    "def test_power():\n    assert power(2, 3) == 8\n\n\n"
                    "def test_power_zero():\n    assert power(5, 0) == 1\n",
                },
                {"op": "manifest", "files": [{"path": "src/calc/ops.py", "symbols": ["power"]}]},
                {"op": "done", "summary": "Added power() with tests."},
            ],
            "end_turn",
        )
    ],
    "docs": [
        (
            [
                {
                    "op": "write",
                    "path": "docs/usage.md",
                    "content": "# Using calc\n\n| function | meaning |\n|---|---|\n"
                    "| `add(a, b)` | a + b |\n| `sub(a, b)` | a - b |\n"
                    "| `mul(a, b)` | a * b |\n| `div(a, b)` | a / b; ZeroDivisionError when b is 0 |\n",
                },
                {
                    "op": "edit",
                    "path": "README.md",
                    "old": "A tiny calculator package.\n",
                    "new": "A tiny calculator package. See [docs/usage.md](docs/usage.md).\n",
                },
                {"op": "manifest", "files": [{"path": "docs/usage.md", "symbols": ["div"]}]},
                {"op": "done", "summary": "Documented every operation."},
            ],
            "end_turn",
        )
    ],
    "settings": [
        (
            [
                {
                    "op": "write",
                    "path": ".env.example",
                    "content": "# Settings calc reads (copy to .env)\nCALC_PRECISION=12\n",
                },
                {"op": "done", "summary": "Listed calc's one setting, CALC_PRECISION."},
            ],
            "end_turn",
        )
    ],
}


def ndjson(ops: list[dict[str, Any]], first_id: int = 1) -> str:
    lines = []
    for n, op in enumerate(ops, first_id):
        lines.append(
            json.dumps({"op": op["op"], "id": n, **{k: v for k, v in op.items() if k != "op"}})
        )
    return "\n".join(lines) + "\n"


# One real continuation (Contract 3): this phase's first response is cut off by max_tokens in the
# middle of this op's line; a second response (purpose "continue") resumes from that op.
CUT_PHASE, CUT_OP = "divide", 2


def _usage(text: str) -> Usage:
    return Usage(input_tokens=1200, output_tokens=max(1, len(text) // 4))


def cut_records(text: str, phase_id: str, op_id: int) -> list[ReplayRecord]:
    """`text` as a response cut off mid-line in op `op_id`, then the continuation from that op."""
    lines = text.splitlines(keepends=True)
    cut_line = lines[op_id - 1]
    first = "".join(lines[: op_id - 1]) + cut_line[: len(cut_line) // 2]
    rest = "".join(lines[op_id - 1 :])
    return [
        ReplayRecord(
            text=first,
            stop_reason="max_tokens",
            usage=_usage(first),
            phase=phase_id,
            purpose="build",
        ),
        ReplayRecord(text=rest, usage=_usage(rest), phase=phase_id, purpose="continue"),
    ]


# phase id -> the ops of its repair round (answering the gate failures; ids continue after the
# phase's last response).
REPAIRS: dict[str, list[dict[str, Any]]] = {
    "power": [
        {"op": "edit", "path": "src/calc/ops.py", "old": "range(n + 1)", "new": "range(n)"},
        {"op": "done", "summary": "Fixed the off-by-one in power(): n multiplications, not n + 1."},
    ],
}


def transcript() -> list[ReplayRecord]:
    records = []
    for phase_id, responses in RESPONSES.items():
        if phase_id in REPAIRS:
            text = ndjson(REPAIRS[phase_id], sum(len(ops) for ops, _ in responses) + 1)
            records.append(
                ReplayRecord(text=text, usage=_usage(text), phase=phase_id, purpose="repair")
            )
        for ops, stop in responses:
            text = ndjson(ops)
            if phase_id == CUT_PHASE:
                records += cut_records(text, phase_id, CUT_OP)
                continue
            records.append(
                ReplayRecord(text=text, stop_reason=stop, usage=_usage(text), phase=phase_id)
            )
    return records
