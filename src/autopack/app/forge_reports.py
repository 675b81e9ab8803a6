"""What a run tells the forge: the pull request, each phase's check run, and its records in the
output folder. spec.json (and run.json, whose it is) is saved when the run starts; telemetry.json
and state.json when it ends, also when it stops on an error after it started, so what its phases
did (commits, held requests, cost) is never lost with the run's last step."""

from __future__ import annotations

from autopack.core.build import ExecutorConfig
from autopack.core.events import CheckPublished, EventSink
from autopack.core.gates.decision import PhaseDecision
from autopack.core.render.progress import pr_title
from autopack.core.render.reports import phase_check_run, render_pr_body, render_summary
from autopack.core.spec import Phase, RunSpec
from autopack.core.state import PhaseRecord, RunState, SpecOwner
from autopack.core.telemetry import RunTelemetry, render_table
from autopack.ports import Forge


def ensure_pr(forge: Forge, state: RunState, spec: RunSpec, config: ExecutorConfig) -> bool:
    """Open the PR (or bring its body up to date); True while it is pending: a forge that cannot
    open it before the branch has a commit says so, and is asked again after each commit."""
    pr = forge.ensure_pull_request(
        state.branch,
        config.base_branch,
        pr_title(spec.goal),
        render_pr_body(state, config.issue_number),
        True,
    )
    state.pr_url = state.pr_url if pr.pending and state.pr_url else pr.url
    return pr.pending


def publish_check(
    forge: Forge,
    head_sha: str,
    on_event: EventSink,
    phase: Phase,
    record: PhaseRecord,
    decision: PhaseDecision | None,
) -> None:
    check = phase_check_run(phase, record, head_sha, decision)
    url = forge.publish_check_run(check)
    on_event(CheckPublished(phase_id=phase.id, name=check.name, url=url))


def save_spec(forge: Forge, spec: RunSpec, state: RunState) -> None:
    """spec.json, and run.json naming the run it belongs to (checked by a resume)."""
    forge.save_artifact("spec.json", spec.model_dump_json(indent=2) + "\n")
    owner = SpecOwner(run_id=state.run_id, branch=state.branch)
    forge.save_artifact("run.json", owner.model_dump_json(indent=2) + "\n")


def save_records(
    forge: Forge, state: RunState, telemetry: RunTelemetry, *, summary: bool = False
) -> None:
    """telemetry.json (each phase's row with its final status), the summary comment when
    `summary` (a run's normal end), then state.json."""
    ids = {p.id for p in state.phases}
    for pt in telemetry.phases:
        if pt.phase_id in ids:
            pt.status = state.phase(pt.phase_id).status.value
    forge.save_artifact("telemetry.json", telemetry.to_json())
    if summary:
        forge.upsert_comment("summary", render_summary(state) + "\n" + render_table(telemetry))
    forge.save_artifact("state.json", state.model_dump_json(indent=2) + "\n")
