"""build_phase with the replay model over an in-memory FileSource: completion, continuation
(Contract 3), repair turns, limits."""

from __future__ import annotations

import json
from typing import Any

from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.builder import build_phase
from autopack.core.build import BuildOutcome, BuildSettings
from autopack.core.edits.changeset import ChangeSet, OpResult, OpStatus
from autopack.core.paths import check_repo_path
from autopack.core.usage import Usage


class DictSource:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def read(self, path: str) -> bytes | None:
        return self.files.get(check_repo_path(path))


def ndjson(ops: list[dict[str, Any]], first: int = 1) -> str:
    return "".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(ops, first))


def rec(text: str, stop: str = "end_turn", out: int = 10) -> ReplayRecord:
    return ReplayRecord(text=text, stop_reason=stop, usage=Usage(output_tokens=out), chunk_size=5)  # type: ignore[arg-type]


def build(
    records: list[ReplayRecord], files: dict[str, bytes] | None = None, **settings: Any
) -> tuple[BuildOutcome, ChangeSet, ReplayModelClient, list[OpResult]]:
    client = ReplayModelClient(records)
    changes = ChangeSet(DictSource(files or {"app.py": b"x = 1\n"}))
    seen: list[OpResult] = []
    outcome = build_phase(
        client,
        model="claude-sonnet-4-5",
        system="sys",
        prompt="do it",
        changes=changes,
        settings=BuildSettings(**settings),
        phase_id="p",
        on_op=seen.append,
    )
    return outcome, changes, client, seen


W1 = {"op": "write", "path": "a.py", "content": "a = 1\n"}
E2 = {"op": "edit", "path": "app.py", "old": "x = 1", "new": "x = 2"}
DONE = {"op": "done", "summary": "ok"}


def test_complete_stream() -> None:
    outcome, changes, client, seen = build([rec(ndjson([W1, E2, DONE]), out=30)])
    assert outcome.complete and outcome.error == ""
    assert [r.status for r in seen] == [OpStatus.applied] * 3  # reported as each line completed
    assert changes.changes == {"a.py": b"a = 1\n", "app.py": b"x = 2\n"}
    assert outcome.usage.output_tokens == 30
    assert [r.purpose for r in outcome.requests] == ["build"]
    assert outcome.requests[0].ops_received == 3
    assert client.requests[0].messages[0].content == "do it"


def test_continuation_keeps_complete_lines_and_asks_for_the_next_id() -> None:
    full = ndjson([W1, E2, DONE])
    cut = full.index("\n") + 10  # inside op 2
    outcome, changes, client, _ = build(
        [rec(full[:cut], "max_tokens"), rec(full[full.index("\n") + 1 :])]
    )
    assert outcome.complete and outcome.continuations == 1
    second = client.requests[1]
    assert second.purpose == "continue"
    assert [m.role for m in second.messages] == ["user", "assistant", "user"]
    assert second.messages[1].content == full[: full.index("\n")]
    assert "Continue from operation id 2" in second.messages[2].content
    assert changes.changes["app.py"] == b"x = 2\n"


def test_context_window_exceeded_is_continued_too() -> None:
    full = ndjson([W1, DONE])
    outcome, _, client, _ = build(
        [rec(full[: full.index("\n") + 1], "model_context_window_exceeded"), rec(ndjson([DONE], 2))]
    )
    assert outcome.complete
    assert [r.purpose for r in client.requests] == ["build", "continue"]


def test_rejection_before_a_cut_is_not_forgotten() -> None:
    bad_edit = {"op": "edit", "path": "app.py", "old": "nope", "new": "y"}
    first = ndjson([W1, bad_edit, W1])
    cut = len(first) - 5  # op 3 is cut off; op 2 was rejected before the cut
    rest = ndjson([W1, DONE], 3)
    outcome, _, client, _ = build([rec(first[:cut], "max_tokens"), rec(rest)], repair_turns=0)
    assert not outcome.complete
    assert "app.py" in outcome.error and "found 0" in outcome.error
    assert len(client.requests) == 2


def test_repair_turn_continues_after_the_last_id() -> None:
    bad_edit = {"op": "edit", "path": "app.py", "old": "nope", "new": "y"}
    outcome, changes, client, _ = build(
        [rec(ndjson([W1, bad_edit, DONE])), rec(ndjson([E2, DONE], 4))]
    )
    assert outcome.complete and outcome.repairs == 1
    repair = client.requests[1]
    assert repair.purpose == "repair"
    assert "op 2 (edit app.py) rejected" in repair.messages[-1].content
    assert "Continue from operation id 4" in repair.messages[-1].content
    assert changes.changes["app.py"] == b"x = 2\n"


def test_no_repair_left_reports_the_problems() -> None:
    outcome, _, client, _ = build([rec(ndjson([W1]))], repair_turns=0)
    assert not outcome.complete
    assert outcome.error == "the stream ended without a 'done' op"
    assert len(client.requests) == 1


def test_continuation_limit() -> None:
    line = ndjson([W1])
    outcome, _, _, _ = build(
        [rec(line + '{"op":', "max_tokens"), rec(ndjson([W1], 2) + "{", "max_tokens")],
        max_continuations=1,
    )
    assert not outcome.complete
    assert outcome.error == (
        "output still cut off after 1 continuation(s) (limit 1); last complete op id 2"
    )


def test_final_line_without_newline_is_decoded() -> None:
    outcome, changes, _, _ = build([rec(ndjson([W1, DONE]).rstrip("\n"))])
    assert outcome.complete and changes.summary == "ok"


def test_broken_final_line_is_reported_not_guessed() -> None:
    text = ndjson([W1]) + '{"op":"done","id":2,"summary":"o'
    outcome, changes, _, _ = build([rec(text)], repair_turns=0)
    assert not outcome.complete
    assert "line 2: not valid JSON" in outcome.error
    assert not changes.done
