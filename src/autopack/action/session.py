"""One execution of a run inside the action: the executor on the checkout with the GitHub forge, the
tracking comment kept live (phase start, each check run), the tokens check run, stale approval
labels removed after a push, the PR marked ready when every phase passed, and a final comment and
the step outputs always, also after a failure. A cancel (SIGTERM/SIGINT, see cancel.py) settles the
phase it cut short and leaves the tracking comment saying "cancelled" with the cost so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from autopack.action.cancel import Cancelled, settle_interrupted
from autopack.action.inputs import ActionEnv, ActionInputs
from autopack.action.labels import ensure_labels
from autopack.action.tracking import TRACKING_KEY, Tracking, render_tracking, signed
from autopack.action.workflow_commands import WorkflowLog, append_summary, write_outputs
from autopack.adapters.github_forge import GitHubForge
from autopack.adapters.github_push import ActionWorkspace
from autopack.app.compose import RunSettings, build_executor
from autopack.app.executor import Executor
from autopack.core.checks import CheckRun
from autopack.core.events import CheckPublished, RunEvent
from autopack.core.governance.requests import DecisionLabels
from autopack.core.render.reports import clip, phase_check_run, render_summary
from autopack.core.spec import Budget, RunSpec
from autopack.core.state import PhaseStatus, RunState
from autopack.core.telemetry import RunTelemetry, render_table
from autopack.errors import AutopackError
from autopack.ports import Finalizer, ModelClient

TOKENS_CHECK = "Autopack / tokens"


@dataclass
class Outcome:
    conclusion: str
    pr_number: int | None = None
    branch: str = ""
    cost_usd: float = 0.0
    output_tokens: int = 0
    messages: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)  # phases a cancel cut short (built again)

    def outputs(self) -> dict[str, str]:
        return {
            "pr_number": str(self.pr_number or ""),
            "branch": self.branch,
            "conclusion": self.conclusion,
            "cost_usd": f"{self.cost_usd:.6f}",
            "output_tokens": str(self.output_tokens),
        }


def finish(env: ActionEnv, log: WorkflowLog, outcome: Outcome, summary: str = "") -> None:
    log.end_group()
    write_outputs(env.output, outcome.outputs())
    text = summary or "\n".join(outcome.messages) or f"Autopack: {outcome.conclusion}"
    append_summary(env.step_summary, f"## Autopack\n\n{text}\n")


def post_tracking(
    forge: GitHubForge, tracking: Tracking, labels: DecisionLabels, key: bytes
) -> None:
    """Write the tracking comment (on the issue, else the PR; a spec-file run before its PR exists
    has nowhere to put it yet). Only a comment signed with `key` is edited: another workflow's or
    bot's comment with the same marker is never taken for ours."""
    number = tracking.issue_number or tracking.pr_number
    if number is not None:
        body = render_tracking(tracking, key, labels)
        forge.upsert_comment_on(number, TRACKING_KEY, body, lambda text: signed(text, key))


def capped_spec(spec: RunSpec, max_cost_usd: float | None) -> RunSpec:
    """The spec with its budget capped by the action's max_cost_usd input."""
    if max_cost_usd is None:
        return spec
    current = spec.budget.max_cost_usd
    cap = max_cost_usd if current is None else min(current, max_cost_usd)
    return spec.model_copy(update={"budget": Budget(max_cost_usd=cap)})


class Session:
    def __init__(
        self,
        *,
        env: ActionEnv,
        inputs: ActionInputs,
        forge: GitHubForge,
        workspace: ActionWorkspace,
        model: ModelClient,
        finalizer: Finalizer | None,
        tracking: Tracking,
        log: WorkflowLog,
    ) -> None:
        self.env, self.inputs, self.forge, self.ws = env, inputs, forge, workspace
        self.model, self.finalizer, self.tracking, self.log = model, finalizer, tracking, log
        self.prior_cost = tracking.cost_usd
        self.prior_tokens = tracking.output_tokens
        self.executor: Executor | None = None
        self.key = inputs.signing_key

    # -- tracking comment --------------------------------------------------------------------
    def save_tracking(self) -> None:
        t = self.tracking
        if self.executor is not None:
            state = self.executor.state
            t.state = state
            t.cost_usd = self.prior_cost + state.cost_usd
            t.output_tokens = self.prior_tokens + state.usage.output_tokens
        t.pr_number = self.forge.pull_number or t.pr_number
        post_tracking(self.forge, t, self.inputs.decision_labels, self.key)

    def _on_event(self, event: RunEvent) -> None:
        """The tracking comment follows the run: a phase starting, a check run published."""
        if isinstance(event, CheckPublished):
            self.tracking.check_urls[event.phase_id] = event.url
        self.save_tracking()

    # -- the run -----------------------------------------------------------------------------
    def run(
        self,
        spec: RunSpec,
        previous: RunState | None,
        only: tuple[str, ...] = (),
        context: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run (or resume) the spec; `only` runs just those phases (a follow-up: the others keep
        their state), `context` adds prompt text per phase."""
        t = self.tracking
        ensure_labels(self.forge, self.inputs, self.log)  # a first run needs no labels made by hand
        settings = RunSettings(
            run_id=t.run_id,
            model=self.inputs.model or None,
            base_branch=t.base_branch,
            max_tokens=self.inputs.max_tokens or None,
            push=True,
            issue_number=t.issue_number,
            only_phases=only,
            instructions=self.inputs.instructions,
            context_budget=self.inputs.context_budget,
        )
        # Earlier runs' rows stay (committed phases are not rebuilt); a rebuilt phase's row is
        # replaced by its latest attempt.
        telemetry = t.telemetry or RunTelemetry()
        t.telemetry = telemetry
        self.executor = build_executor(
            capped_spec(spec, self.inputs.cost_cap),
            self.ws,
            self.model,
            self.forge,
            settings.executor_config(),
            finalizer=self.finalizer,
            progress=self.log.progress,
            telemetry=telemetry,
            audit=t,  # the audit log lives in the tracking comment's state block
            labels=self.inputs.decision_labels,
            on_event=self._on_event,
            phase_context=context,
        )
        return self._conclude(self.executor, telemetry, previous)

    def _conclude(
        self, executor: Executor, telemetry: RunTelemetry, previous: RunState | None
    ) -> Outcome:
        """Run the executor and turn its end into the tracking comment, checks and outcome."""
        try:
            return self._ending(executor, telemetry, previous)
        except Cancelled as stop:
            return self._cancelled(stop)

    def _ending(
        self, executor: Executor, telemetry: RunTelemetry, previous: RunState | None
    ) -> Outcome:
        t = self.tracking
        outcome = Outcome(conclusion="failure", branch=t.branch)
        before = {r.id: r.head_sha for r in (previous.requests if previous else [])}
        try:
            state = executor.run(previous)
        except Exception as exc:  # also a bug: the final comment is always left
            if not isinstance(exc, AutopackError):
                exc = AutopackError(f"internal error {type(exc).__name__}: {exc}")
            self.log.error(f"Autopack stopped: {exc}")
            t.conclusion = outcome.conclusion = "error"
            outcome.messages.append(f"Autopack stopped: {exc}")
            self._final_comment(f"## Autopack stopped\n\n{exc}\n\n" + self._state_summary())
            self.save_tracking()
            return self._fill(outcome)
        self.log.end_group()
        self._missing_checks(executor.spec, state)
        self._tokens_check(telemetry)
        t.state = state
        pending = t.pending_requests()
        ran = [p.status for p in state.phases if executor.config.runs(p.id)]  # kept: not judged
        if pending:
            if any(before.get(r.id, "") != r.head_sha for r in pending):
                self._drop_stale_labels()
            t.conclusion = outcome.conclusion = "action_required"
        elif PhaseStatus.denied in ran and PhaseStatus.failed not in ran:
            t.conclusion = outcome.conclusion = "denied"  # a maintainer's decision, not a failure
        elif all(s is PhaseStatus.committed for s in ran):
            t.conclusion = outcome.conclusion = "success"
            if state.succeeded and self.forge.pull_number:
                self.forge.mark_ready_for_review(self.forge.pull_number)
        else:
            t.conclusion = outcome.conclusion = "failure"
        self.save_tracking()
        outcome.messages.append(render_summary(state))
        return self._fill(outcome)

    def _cancelled(self, stop: Cancelled) -> Outcome:
        """The run was cancelled: the phase cut short is failed (its written files put back, so
        nothing half-done is committed; a re-run builds it again), and the tracking comment says
        "cancelled" with the cost so far (the request cut off is not counted)."""
        t = self.tracking
        self.log.end_group()
        reason = f"cancelled ({stop.signal_name}) before it finished; a re-run builds it again"
        cut: list[str] = []
        if self.executor is not None:
            cut = settle_interrupted(self.executor.state, self._discard, reason)
        t.conclusion = "cancelled"
        try:
            self.save_tracking()
        except (AutopackError, OSError) as exc:
            self.log.warning(f"could not update the tracking comment: {exc}")
        where = f" during {', '.join(cut)}" if cut else ""
        message = (
            f"Autopack was cancelled ({stop.signal_name}){where}; cost so far "
            f"${t.cost_usd:.4f}, {t.output_tokens} output tokens. Re-run to resume."
        )
        self.log.warning(message)
        outcome = Outcome(conclusion="cancelled", branch=t.branch, messages=[message], cut=cut)
        return self._fill(outcome)

    def _discard(self, paths: list[str]) -> None:
        try:
            self.ws.discard_changes(paths)
        except Exception as exc:  # a git command cut short may hold the index lock
            self.log.warning(f"could not put back {', '.join(paths)}: {exc}")

    def _fill(self, outcome: Outcome) -> Outcome:
        outcome.pr_number = self.forge.pull_number or self.tracking.pr_number
        outcome.cost_usd = self.tracking.cost_usd
        outcome.output_tokens = self.tracking.output_tokens
        return outcome

    def _state_summary(self) -> str:
        return render_summary(self.executor.state) if self.executor is not None else ""

    def _final_comment(self, body: str) -> None:
        try:
            self.forge.upsert_comment("summary", body)
        except AutopackError as exc:  # the run's own error matters more
            self.log.warning(f"could not post the final comment: {exc}")

    def _tokens_check(self, telemetry: RunTelemetry) -> None:
        usage = telemetry.usage
        title = (
            f"{usage.output_tokens} output tokens, {telemetry.request_count} requests, "
            f"${telemetry.cost_usd:.4f}"
        )
        self.forge.publish_check_run(
            CheckRun(
                name=TOKENS_CHECK,
                head_sha=self.ws.head_sha(),
                status="completed",
                conclusion="neutral",
                title=title,
                summary=clip(render_table(telemetry)),
            )
        )

    def _missing_checks(self, spec: RunSpec, state: RunState) -> None:
        """A committed phase whose check run was never published (the job was killed between
        its push and its check run) gets it now, on its own commit."""
        for record in state.phases:
            known = record.id in self.tracking.check_urls
            if record.status is not PhaseStatus.committed or known or not record.commit_sha:
                continue
            check = phase_check_run(spec.phase(record.id), record, record.commit_sha, None)
            self.tracking.check_urls[record.id] = self.forge.publish_check_run(check)
            self.log.info(f"published the missing check run of {record.id}")

    def _drop_stale_labels(self) -> None:
        """A pending request was (re)posted at the current head: earlier approve/deny labels are
        stale, so they go (they would not count anyway: they predate the request comment)."""
        number = self.forge.pull_number or self.tracking.issue_number
        if number is None:
            return
        for label in (self.inputs.approve_label, self.inputs.deny_label):
            if self.forge.remove_label(number, label):
                self.log.info(f"removed the stale label {label!r} from #{number}")


__all__ = ["TOKENS_CHECK", "Outcome", "Session", "capped_spec", "finish", "post_tracking"]
