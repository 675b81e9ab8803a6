"""Red team: a deeply nested YAML/JSON value in a spec file makes `autopack validate` (and run,
plan, and the Action's issue block) die with a RecursionError traceback: core/spec.parse_spec_text
catches only YAMLError and JSONDecodeError. It must be reported as an invalid spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.cli import main


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"goal": "g", "phases": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        ("deep.yaml", "goal: g\nphases: " + "[" * 50_000 + "]" * 50_000 + "\n"),
    ],
)
def test_a_deeply_nested_spec_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    assert main(["validate", str(spec)]) == 1
    assert "invalid run spec" in capsys.readouterr().err
