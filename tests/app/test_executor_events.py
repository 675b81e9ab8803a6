"""The executor on the in-memory ports (adapters/fakes.py): what it reports to the face (typed
events), and the PR it opens once the branch has a commit, with no hidden callbacks."""

from __future__ import annotations

from test_executor import A_OPS, C_OPS, SPEC, ndjson, rec

from autopack.adapters.fakes import MemoryWorkspace, RecordingForge
from autopack.adapters.replay_model import ReplayModelClient
from autopack.app.compose import build_executor
from autopack.core.build import ExecutorConfig
from autopack.core.events import CheckPublished, PhaseStarted, RunEvent
from autopack.core.spec import parse_spec
from autopack.core.state import PhaseStatus

FILES = {"README.md": b"# demo\n", "src/app.py": b"def hello():\n    return 'hi'\n"}


def _run(
    forge: RecordingForge, ws: MemoryWorkspace, records: list
) -> tuple[list[RunEvent], object]:
    events: list[RunEvent] = []
    executor = build_executor(
        parse_spec(SPEC),
        ws,
        ReplayModelClient(records),
        forge,
        ExecutorConfig(run_id="mem"),
        on_event=events.append,
    )
    return events, executor.run()


def test_events_tell_each_phase_start_and_its_check_run_url() -> None:
    ws = MemoryWorkspace(FILES)
    forge = RecordingForge()
    bad_b = rec("b", ndjson([{"op": "edit", "path": "nope.py", "old": "x", "new": "y"}]))
    events, state = _run(
        forge, ws, [rec("a", ndjson(A_OPS)), bad_b, bad_b, rec("c", ndjson(C_OPS))]
    )
    started = [e for e in events if isinstance(e, PhaseStarted)]
    assert [(e.phase_id, e.index, e.total) for e in started] == [
        ("a", 1, 3),
        ("b", 2, 3),
        ("c", 3, 3),
    ]
    published = [e for e in events if isinstance(e, CheckPublished)]
    assert [e.phase_id for e in published] == ["a", "b", "c"]
    assert all(e.url.startswith("memory://checks/Autopack / ") for e in published)
    assert [p.status for p in state.phases] == [
        PhaseStatus.committed,
        PhaseStatus.failed,
        PhaseStatus.committed,
    ]
    # each event comes before the next phase's start: a face can keep a live checklist
    kinds = [(type(e).__name__, e.phase_id) for e in events]
    assert kinds.index(("CheckPublished", "a")) < kinds.index(("PhaseStarted", "b"))
    assert ws.files["src/a.py"] == b"A = 'a'\n" and "nope.py" not in ws.files


def test_the_pr_is_asked_for_again_after_the_first_commit_when_it_was_pending() -> None:
    ws = MemoryWorkspace(FILES)
    forge = RecordingForge(has_commits=lambda: len(ws.commits) > 1)
    records = [rec("a", ndjson(A_OPS)), rec("b", ndjson(A_OPS[-1:])), rec("c", ndjson(C_OPS))]
    _, state = _run(forge, ws, records)
    asks = [c for c in forge.calls if c.startswith("ensure_pull_request")]
    first_check = forge.calls.index("publish_check_run Autopack / a")
    assert forge.calls[first_check - 1] == "ensure_pull_request autopack/mem"  # after the commit
    assert len(asks) == 3  # at the start (pending), after phase a's commit, at the end
    assert forge.pull is not None and state.pr_url == forge.pull.url
