"""Red team: a duplicated key in a spec file is silently dropped. yaml.safe_load (and json.loads)
keep the last value, so a spec with two `phases:` lists (a merge gone wrong, a paste) "validates"
with only the second list's phases, and `autopack run` quietly skips the others. `validate` is
documented to "report every problem of a run spec, each naming its field"; an unknown key is an
error, a key given twice should be one too."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.cli import main


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "dup.yaml",
            "goal: g\nphases:\n  - {id: a, title: A}\n  - {id: b, title: B}\n"
            "phases:\n  - {id: c, title: C}\n",
        ),
        (
            "dup.json",
            '{"goal": "g", "phases": [{"id": "a", "title": "A"}], '
            '"phases": [{"id": "c", "title": "C"}]}',
        ),
    ],
)
def test_a_key_given_twice_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    assert main(["validate", str(spec)]) == 1
    assert "phases" in capsys.readouterr().err
