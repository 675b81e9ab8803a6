"""Red team: `autopack followup` without --by names the phase "Follow-up asked by amaintainer":
the option's default, "a maintainer" (commands/followup.py), goes through core/followup.py's name
filter, which drops spaces. The same happens to `--by "Ana Lima"` ("AnaLima"). The commit subject,
the check run and the PR body carry the mangled name."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_followup_cli import RENAME, Local, ndjson
from test_followup_cli import local as local

from autopack.adapters.replay_model import ReplayRecord, dump_transcript


@pytest.mark.parametrize(
    ("by", "named"), [((), "a maintainer"), (("--by", "Ana Lima"), "Ana Lima")]
)
def test_the_follow_up_title_keeps_the_name_as_given(
    local: Local, tmp_path: Path, by: tuple[str, ...], named: str
) -> None:
    replay = tmp_path / "rename.jsonl"
    replay.write_text(dump_transcript([ReplayRecord(text=ndjson(RENAME))]), encoding="utf-8")
    assert local.followup("--instruction", "rename hello", "--replay", str(replay), *by) == 0
    assert local.subjects()[0].endswith(f"Follow-up asked by {named}")
