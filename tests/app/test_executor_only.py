"""A run of only some phases (a follow-up): the phases it names are built and committed on top of the
branch; every other phase keeps what the previous run left (failed ones are not retried, no model
call is made for them); a phase's extra prompt context reaches the model. Real git repos, the replay
model, the local forge."""

from __future__ import annotations

from pathlib import Path

from test_executor import A_OPS, C_OPS, ndjson, rec, statuses, subjects

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.compose import RunSettings, build_executor
from autopack.core.spec import parse_spec
from autopack.core.state import RunState

SPEC = {
    "goal": "Greet better",
    "phases": [
        {"id": "a", "title": "Add a", "deliverables": [{"path": "src/app.py"}]},
        {"id": "broken", "title": "Never works", "deliverables": [{"path": "src/x.py"}]},
    ],
}
FOLLOW = {"id": "followup-7", "title": "Follow-up 7", "goal": "add docs"}
BAD = ndjson([{"op": "edit", "path": "src/x.py", "old": "x", "new": "y"}])


def execute(
    repo: Path,
    out: Path,
    spec: dict[str, object],
    records: list[ReplayRecord],
    previous: RunState | None = None,
    **settings: object,
) -> tuple[RunState, ReplayModelClient, list[str]]:
    client, lines = ReplayModelClient(records), []
    executor = build_executor(
        parse_spec(spec),
        GitWorkspace(repo),
        client,
        LocalForge(out),
        RunSettings(run_id="t1", **settings).executor_config(),  # type: ignore[arg-type]
        progress=lines.append,
        phase_context={"followup-7": "CTX-42: the pull request's diff"},
    )
    return executor.run(previous), client, lines


def test_only_the_named_phase_runs_and_the_others_keep_their_state(
    git_repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    records = [rec("a", ndjson(A_OPS)), rec("broken", BAD), rec("broken", BAD)]
    before, _, _ = execute(git_repo, out, SPEC, records)
    assert statuses(before) == {"a": "committed", "broken": "failed"}
    assert before.phase("broken").cost_usd > 0

    spec = {**SPEC, "phases": [*SPEC["phases"], FOLLOW]}  # type: ignore[list-item]
    after, client, lines = execute(
        git_repo, out, spec, [rec("followup-7", ndjson(C_OPS))], before, only_phases=("followup-7",)
    )

    assert statuses(after) == {"a": "committed", "broken": "failed", "followup-7": "committed"}
    assert subjects(git_repo) == ["autopack(followup-7): Follow-up 7", "autopack(a): Add a"]
    assert [r.phase_id for r in client.requests] == ["followup-7"]  # `broken` was not retried
    kept = after.phase("broken")
    assert kept.reason == before.phase("broken").reason and kept.resumed
    assert kept.cost_usd == 0  # counted by the run that spent it, not again
    assert after.cost_usd == after.phase("followup-7").cost_usd > 0
    assert "[2/3] broken: failed (not part of this run)" in lines
    assert "CTX-42: the pull request's diff" in client.requests[0].messages[0].content


def test_every_phase_runs_without_only_phases(git_repo: Path, tmp_path: Path) -> None:
    """The default: a resume retries the failed phase (and the extra context goes to no one)."""
    out = tmp_path / "out"
    records = [rec("a", ndjson(A_OPS)), rec("broken", BAD), rec("broken", BAD)]
    before, _, _ = execute(git_repo, out, SPEC, records)
    again, client, _ = execute(git_repo, out, SPEC, [rec("broken", BAD)] * 2, before)
    assert [r.phase_id for r in client.requests] == ["broken", "broken"]
    assert statuses(again) == {"a": "committed", "broken": "failed"}
    assert all("CTX-42" not in r.messages[0].content for r in client.requests)
