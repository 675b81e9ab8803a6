"""`autopack action`: read what GitHub provides, decide what the event asks (pure), check who asked
(pure policy on facts read from GitHub), then start or resume the run (session.py). Refusals and
events that ask nothing exit 0 with a clear message; the exit codes are in exit_codes.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from autopack.action.events import DecideRequest, Ignore, StartRun, decide_intent, load_payload
from autopack.action.exit_codes import exit_code
from autopack.action.inputs import (
    ActionConfigError,
    ActionEnv,
    ActionInputs,
    baseline_cache_dir,
    env_from_env,
    inputs_from_env,
)
from autopack.action.issue_spec import planning_goal, spec_from_issue
from autopack.action.session import Outcome, Session, finish, post_tracking
from autopack.action.tracking import TRACKING_KEY, Tracking, decode_state, signed, state_key
from autopack.action.workflow_commands import WorkflowLog
from autopack.adapters.clock import SystemClock
from autopack.adapters.github_forge import GitHubForge, LabelEvent
from autopack.adapters.github_push import ActionWorkspace
from autopack.adapters.spec_file import load_spec
from autopack.app.compose import (
    GateSettings,
    anthropic_model,
    build_finalizer,
    lazy_model,
    model_id_for,
    plan_run,
    replay_model,
    run_slug,
)
from autopack.app.governor import apply_decision, load_policy
from autopack.app.planner import RepoFile
from autopack.core.context.budget import ContextSettings
from autopack.core.governance.approval import (
    LabelFact,
    Verdict,
    judge_approval,
    judge_label,
    judge_person,
)
from autopack.core.governance.requests import Decision
from autopack.core.paths import check_repo_path
from autopack.core.spec import RunSpec
from autopack.core.state import RunState
from autopack.core.telemetry import RunTelemetry
from autopack.errors import AutopackError, GovernanceError
from autopack.ports import ModelClient

_ISSUE_BRANCH = re.compile(r"^autopack/issue-(\d+)$")


def _fact(event: LabelEvent | None) -> LabelFact | None:
    if event is None:
        return None
    return LabelFact(actor=event.actor, actor_type=event.actor_type, created_at=event.created_at)


class ActionRunner:
    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        stream: TextIO | None = None,
        throttle: bool = True,
    ) -> None:
        self.log = WorkflowLog(stream)
        self.inputs: ActionInputs = inputs_from_env(environ)
        self.log.mask(*self.inputs.secrets)
        self.env: ActionEnv = env_from_env(environ)
        self.throttle = throttle
        self._forge: GitHubForge | None = None
        self._home: int | None = None  # where a stopped run is reported

    @property
    def forge(self) -> GitHubForge:
        if self._forge is None:
            self._forge = GitHubForge(
                self.env.repository,
                self.inputs.github_token,
                api_url=self.env.api_url,
                artifacts=Path(self.env.temp or self.env.workspace + "/..") / "autopack-out",
                throttle=self.throttle,
            )
        return self._forge

    def run(self) -> int:
        """Exit code (exit_codes.py): 0 for a finished run, a refusal or an event that asks
        nothing; 1 when the run failed or stopped (the issue or PR then has a comment saying why);
        2 for a bad input; 3 when a request waits for a decision."""
        try:
            return self._run()
        except AutopackError as exc:
            return self._stopped(exc)
        finally:
            if self._forge is not None:
                self._forge.close()

    def _stopped(self, exc: AutopackError) -> int:
        bad_input = isinstance(exc, ActionConfigError)
        message = f"Autopack stopped: {exc}"
        self.log.error(message)
        if self._home is not None:
            try:
                self.forge.upsert_comment_on(self._home, "summary", f"## {message}\n")
            except AutopackError as again:
                self.log.warning(f"could not comment on #{self._home}: {again}")
        conclusion = "config_error" if bad_input else "error"
        finish(self.env, self.log, Outcome(conclusion=conclusion, messages=[message]))
        return exit_code(conclusion)

    def _run(self) -> int:
        payload = load_payload(self.env.event_path)
        intent = decide_intent(self.env.event_name, payload, self.inputs)
        if isinstance(intent, Ignore):
            self.log.notice(f"Autopack: {intent.reason}")
            finish(self.env, self.log, Outcome(conclusion="skipped", messages=[intent.reason]))
            return 0
        if isinstance(intent, StartRun):
            return self.start(intent)
        return self.decide(intent)

    # -- refusals ----------------------------------------------------------------------------
    def refuse(self, number: int | None, key: str, verdict: Verdict, what: str) -> int:
        message = f"Autopack did not {what}: {verdict.reason}."
        self.log.notice(message)
        if number is not None:
            self.forge.upsert_comment_on(number, key, f"⛔ {message}")
        finish(self.env, self.log, Outcome(conclusion="refused", messages=[message]))
        return 0

    # -- start -------------------------------------------------------------------------------
    def start(self, intent: StartRun) -> int:
        forge, n = self.forge, intent.issue_number
        if intent.label is not None and n is not None:
            fact = _fact(forge.last_labeled(n, intent.label))
            role = forge.role_name(fact.actor) if fact else "none"
            verdict = judge_label(fact, intent.sender, intent.label, role, self.inputs.allowed_bots)
        else:
            role = forge.role_name(intent.sender)
            verdict = judge_person(
                intent.sender, intent.sender_type, role, self.inputs.allowed_bots
            )
        if not verdict.allowed:
            return self.refuse(n, "refused", verdict, "start a run")
        self._home = n
        run_id = f"issue-{n}" if n is not None else self._spec_run_id(intent.spec_path or "")
        if n is not None:
            tracking = self._load_tracking(n)
        else:  # a spec-file run keeps its tracking comment on its PR
            pull = forge.find_pull(f"autopack/{run_id}")
            tracking = self._load_tracking(pull.number) if pull else None
        if tracking is None:
            tracking = Tracking(
                run_id=run_id,
                branch=f"autopack/{run_id}",
                base_branch=self.inputs.base_branch or forge.default_branch,
                issue_number=n,
            )
        tracking.run_url = self.env.run_url or tracking.run_url
        forge.target = n
        self.log.group(f"Autopack: preparing {tracking.branch}")
        ws = ActionWorkspace(self.env.workspace, self.inputs.github_token)
        if ws.adopt_remote_branch(tracking.branch):
            self.log.info(f"resuming {tracking.branch} from origin")
        model = self._model()
        spec = tracking.spec or self._spec(intent, ws, model, tracking)
        tracking.spec = spec
        return self._execute(tracking, ws, model, spec, tracking.state)

    def _spec_run_id(self, spec_path: str) -> str:
        return "spec-" + run_slug(Path(spec_path).stem)

    def _load_tracking(self, number: int) -> Tracking | None:
        """The run state of #number: only from a comment whose state block is signed with this
        workflow's key (another bot's or workflow's comment is never taken for ours)."""
        key = state_key(self.inputs.state_secret)
        found = self.forge.find_comment(number, TRACKING_KEY, lambda body: signed(body, key))
        return decode_state(found.body, key) if found else None

    def _model(self) -> ModelClient:
        if self.inputs.replay:
            path = Path(self.env.workspace, check_repo_path(self.inputs.replay))
            return replay_model(str(path))
        # Made on the first model call: applying an approved held phase needs no model (nor a key).
        return lazy_model(self._anthropic)

    def _anthropic(self) -> ModelClient:
        if not self.inputs.anthropic_api_key:
            raise ActionConfigError("input anthropic_api_key is empty (set it from a secret)")
        return anthropic_model(
            api_key=self.inputs.anthropic_api_key,
            base_url=self.inputs.anthropic_base_url or None,
        )

    def _spec(
        self, intent: StartRun, ws: ActionWorkspace, model: ModelClient, tracking: Tracking
    ) -> RunSpec:
        if intent.spec_path:
            return load_spec(Path(ws.root) / check_repo_path(intent.spec_path))
        assert intent.issue_number is not None  # decide_intent gives one or the other
        issue = self.forge.issue(intent.issue_number)
        spec = spec_from_issue(issue.number, issue.body)
        if spec is not None:
            self.log.info(f"using the autopack block of issue #{issue.number} as the run spec")
            if spec.instructions:
                # Issue text is not the maintainers': it never becomes trusted instructions.
                self.log.warning(
                    "ignored the spec's `instructions` (issue text is untrusted); use the "
                    "action's `instructions` input or the repo's AGENTS.md"
                )
                spec = spec.model_copy(update={"instructions": ""})
            return spec
        self.log.info(f"planning phases for issue #{issue.number} with the model")
        files = [RepoFile(path=p, size=len(ws.read(p) or b"")) for p in ws.list_files()[:5000]]
        telemetry = RunTelemetry()
        outcome = plan_run(
            model,
            model_id=model_id_for(self.inputs.model or None),
            goal=planning_goal(issue.number, issue.title, issue.body),
            files=files,
            telemetry=telemetry,
            workspace=ws,
            context=ContextSettings(
                budget_tokens=self.inputs.context_budget, instructions=self.inputs.instructions
            ),
        )
        tracking.telemetry = telemetry
        tracking.cost_usd += telemetry.cost_usd
        tracking.output_tokens += telemetry.usage.output_tokens
        return outcome.spec

    def _execute(
        self,
        tracking: Tracking,
        ws: ActionWorkspace,
        model: ModelClient,
        spec: RunSpec,
        previous: RunState | None,
    ) -> int:
        command = self.inputs.test_command.strip()
        settings = GateSettings(baseline_cache=baseline_cache_dir(self.inputs, self.env))
        if command.lower() == "none":
            settings = GateSettings(tests=False)
        elif command:
            settings = settings.model_copy(update={"test_command": command})
        session = Session(
            env=self.env,
            inputs=self.inputs,
            forge=self.forge,
            workspace=ws,
            model=model,
            finalizer=build_finalizer(ws, settings),
            tracking=tracking,
            log=self.log,
        )
        outcome = session.run(spec, previous)
        finish(self.env, self.log, outcome, "\n\n".join(outcome.messages))
        return exit_code(outcome.conclusion)

    # -- decide ------------------------------------------------------------------------------
    def decide(self, intent: DecideRequest) -> int:
        forge = self.forge
        match = _ISSUE_BRANCH.match(intent.head_ref)
        issue = int(match.group(1)) if match else (None if intent.is_pull else intent.number)
        home = issue if issue is not None else intent.number
        tracking = self._load_tracking(home)
        request = tracking.pending_request() if tracking else None
        if tracking is not None and request is None and tracking.unapplied_decision():
            return self._finish_decided(tracking)
        if tracking is None or tracking.state is None or request is None:
            reason = "there is no pending governance request on this run"
            return self.refuse(
                intent.number, "refused", Verdict(allowed=False, reason=reason), "decide"
            )
        forge.target = tracking.issue_number
        forge.pull_number = tracking.pr_number
        comment = forge.find_comment(intent.number, request.id)
        if comment is None or not request.head_sha:
            reason = f"the comment of request {request.id} is not on #{intent.number}"
            return self.refuse(
                intent.number, "refused", Verdict(allowed=False, reason=reason), "decide"
            )
        head, verdict = self._judge(intent, tracking, request.head_sha, comment.updated_at)
        if not verdict.allowed:
            forge.remove_label(intent.number, intent.label)
            return self.refuse(intent.number, f"refused-{request.id}", verdict, "accept the label")
        self._home = intent.number
        self.log.group(f"Autopack: {intent.label} on request {request.id} by {verdict.who}")
        ws = ActionWorkspace(self.env.workspace, self.inputs.github_token)
        ws.adopt_remote_branch(tracking.branch)
        decision = Decision.approve if intent.approve else Decision.deny
        try:
            apply_decision(
                tracking.state,
                request.id,
                decision,
                verdict.who,
                head,
                clock=SystemClock(),
                audit=tracking,
                forge=forge,
                ttl=timedelta(hours=load_policy(ws, tracking.spec or _empty()).request_ttl_hours),
                labels=self.inputs.decision_labels,
            )
        except GovernanceError as exc:
            forge.remove_label(intent.number, intent.label)
            post_tracking(
                forge, tracking, self.inputs.decision_labels, state_key(self.inputs.state_secret)
            )  # expiry, refusal audit
            refusal = Verdict(allowed=False, who=verdict.who, reason=str(exc))
            return self.refuse(intent.number, f"refused-{request.id}", refusal, "decide")
        # The decision is durable (in the signed state) before the label is consumed: a run
        # killed from here on is finished by a re-run, never asks for a second approval.
        post_tracking(
            forge, tracking, self.inputs.decision_labels, state_key(self.inputs.state_secret)
        )
        forge.remove_label(intent.number, intent.label)  # consumed: a later request needs a new one
        self.log.info(f"request {request.id}: {decision.value}d by {verdict.who}; resuming")
        return self._resume(tracking, ws)

    def _resume(self, tracking: Tracking, ws: ActionWorkspace) -> int:
        spec = tracking.spec
        if spec is None:
            raise AutopackError("the tracking comment has no run spec; label the issue again")
        return self._execute(tracking, ws, self._model(), spec, tracking.state)

    def _finish_decided(self, tracking: Tracking) -> int:
        """A decision recorded by an earlier run that stopped before applying it: finish it."""
        request = tracking.unapplied_decision()
        assert request is not None
        self.forge.target, self.forge.pull_number = tracking.issue_number, tracking.pr_number
        self._home = tracking.issue_number or tracking.pr_number
        self.log.group(f"Autopack: finishing request {request.id} ({request.state.value} earlier)")
        ws = ActionWorkspace(self.env.workspace, self.inputs.github_token)
        ws.adopt_remote_branch(tracking.branch)
        return self._resume(tracking, ws)

    def _judge(
        self, intent: DecideRequest, tracking: Tracking, request_head: str, requested_at: datetime
    ) -> tuple[str, Verdict]:
        """The PR head now, and whether the label counts (who added it, when, at which head)."""
        forge = self.forge
        if intent.is_pull:
            head = forge.pull(intent.number).head_sha
        else:
            head = forge.branch_sha(tracking.branch) or forge.branch_sha(tracking.base_branch) or ""
        fact = _fact(forge.last_labeled(intent.number, intent.label))
        role = forge.role_name(fact.actor) if fact else "none"
        verdict = judge_approval(
            fact,
            intent.sender,
            intent.label,
            role,
            requested_at=requested_at,
            request_head_sha=request_head,
            pr_head_sha=head,
            allowed_bots=self.inputs.allowed_bots,
        )
        return head, verdict


def _empty() -> RunSpec:
    return RunSpec(goal="(resume)")


def run_action(environ: Mapping[str, str], **kwargs: Any) -> int:
    return ActionRunner(environ, **kwargs).run()
