"""Report rendering (pure): PR body, phase check-run payloads, run summary, via jinja2 templates."""

from __future__ import annotations

from autopack.core.checks import CHECK_TEXT_LIMIT, Annotation, CheckRun
from autopack.core.gates.decision import PhaseDecision
from autopack.core.render.prompts import render
from autopack.core.spec import Phase
from autopack.core.state import PhaseRecord, PhaseStatus, RunState

STATUS_ICON = {
    "pending": "⏳",
    "building": "🔨",
    "applying": "🔨",
    "committed": "✅",
    "failed": "❌",
    "blocked": "⛔",
    "awaiting_approval": "🔒",
    "denied": "🚫",
}


def clip(text: str, limit: int = CHECK_TEXT_LIMIT) -> str:
    """Cut `text` to GitHub's limit, saying so at the end."""
    if len(text) <= limit:
        return text
    note = "\n\n… (truncated)"
    return text[: limit - len(note)] + note


def render_pr_body(state: RunState, issue_number: int | None = None) -> str:
    return render(
        "pr_body.md.j2",
        goal=state.goal,
        state=state,
        status_icon=STATUS_ICON,
        issue_number=issue_number,
    )


def render_summary(state: RunState) -> str:
    return render(
        "summary.md.j2",
        state=state,
        status_icon=STATUS_ICON,
        requests=sum(p.requests for p in state.phases),
    )


def _conclusion(record: PhaseRecord) -> str:
    return {
        PhaseStatus.committed: "success",
        PhaseStatus.failed: "failure",
        PhaseStatus.blocked: "skipped",
    }.get(record.status, "neutral")


def phase_check_run(
    phase: Phase,
    record: PhaseRecord,
    head_sha: str,
    decision: PhaseDecision | None = None,
    annotations: tuple[Annotation, ...] = (),
) -> CheckRun:
    summary = render("check_run.md.j2", phase=phase, record=record, decision=decision)
    title = f"{record.status.value}: {record.reason}" if record.reason else record.status.value
    return CheckRun(
        name=f"Autopack / {phase.id}",
        head_sha=head_sha,
        status="completed",
        conclusion=_conclusion(record),
        title=clip(title, 200),
        summary=clip(summary),
        annotations=annotations or (decision.annotations if decision else ()),
    )


def render_check_markdown(check: CheckRun) -> str:
    return render("check_run_file.md.j2", check=check)
