"""`autopack action`: read what GitHub provides, decide what the event asks (pure), check who asked
(pure policy on facts read from GitHub), then start or resume the run (session.py). Refusals and
events that ask nothing exit 0 with a clear message; the exit codes are in exit_codes.py."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from autopack.action.decide import Decide
from autopack.action.events import (
    FollowUpRequest,
    Ignore,
    StartRun,
    decide_intent,
    load_payload,
)
from autopack.action.exit_codes import exit_code
from autopack.action.followup import FollowUp, settle_followups
from autopack.action.inputs import (
    ActionConfigError,
    ActionEnv,
    ActionInputs,
    baseline_cache_dir,
    env_from_env,
    inputs_from_env,
    managed_env_dir,
)
from autopack.action.issue_spec import planning_goal, spec_from_issue
from autopack.action.session import Outcome, Session, finish
from autopack.action.tracking import TRACKING_KEY, Tracking, decode_state, signed
from autopack.action.workflow_commands import WorkflowLog
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
from autopack.app.planner import RepoFile
from autopack.core.context.budget import ContextSettings
from autopack.core.governance.approval import (
    LabelFact,
    Verdict,
    judge_label,
    judge_person,
)
from autopack.core.paths import check_repo_path
from autopack.core.spec import RunSpec
from autopack.core.state import RunState
from autopack.core.telemetry import RunTelemetry
from autopack.errors import AutopackError
from autopack.ports import Finalizer, ModelClient


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
        self.home: int | None = None  # where a stopped run is reported
        self._clients: list[ModelClient] = []  # closed when the run ends

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
        finally:  # the HTTP connections of the GitHub and model clients
            for close in (getattr(c, "close", None) for c in (self._forge, *self._clients)):
                if callable(close):
                    close()

    def _stopped(self, exc: AutopackError) -> int:
        bad_input = isinstance(exc, ActionConfigError)
        message = f"Autopack stopped: {exc}"
        self.log.error(message)
        if self.home is not None:
            try:
                self.forge.upsert_comment_on(self.home, "summary", f"## {message}\n")
            except AutopackError as again:
                self.log.warning(f"could not comment on #{self.home}: {again}")
        conclusion = "config_error" if bad_input else "error"
        finish(self.env, self.log, Outcome(conclusion=conclusion, messages=[message]))
        return exit_code(conclusion)

    def _run(self) -> int:
        payload = load_payload(self.env.event_path)
        intent = decide_intent(self.env.event_name, payload, self.inputs)
        if isinstance(intent, Ignore):
            return self.ignore(intent.reason)
        if isinstance(intent, StartRun):
            return self.start(intent)
        if isinstance(intent, FollowUpRequest):
            return FollowUp(self, intent).run()
        return Decide(self, intent).run()

    def react(
        self, comment_id: int, review: bool, content: str, number: int, review_body: bool = False
    ) -> None:
        """A reaction on a command comment; one that fails is logged, it never stops the run. A
        review's body cannot have one (GitHub has no such endpoint): its reply comment says it."""
        if review_body:
            return
        try:
            self.forge.react(comment_id, review, content, number)
        except AutopackError as exc:
            self.log.warning(f"could not react to comment {comment_id}: {exc}")

    def ignore(self, reason: str) -> int:
        """An event that asks nothing of Autopack: one line, exit 0."""
        self.log.notice(f"Autopack: {reason}")
        finish(self.env, self.log, Outcome(conclusion="skipped", messages=[reason]))
        return 0

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
        self.home = n
        run_id = f"issue-{n}" if n is not None else self._spec_run_id(intent.spec_path or "")
        if n is not None:
            tracking = self.load_tracking(n)
        else:  # a spec-file run keeps its tracking comment on its PR
            pull = forge.find_pull(f"autopack/{run_id}")
            tracking = self.load_tracking(pull.number) if pull else None
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
        finalizer = self.finalizer(ws)  # a setup command runs before any model call
        model = self.make_model()
        spec = tracking.spec or self._spec(intent, ws, model, tracking)
        tracking.spec = spec
        return self.execute(tracking, ws, model, spec, tracking.state, finalizer)

    def _spec_run_id(self, spec_path: str) -> str:
        return "spec-" + run_slug(Path(spec_path).stem)

    def load_tracking(self, number: int) -> Tracking | None:
        """The run state of #number: only from a comment whose state block is signed with this
        workflow's key (another bot's or workflow's comment is never taken for ours)."""
        key = self.inputs.signing_key
        found = self.forge.find_comment(number, TRACKING_KEY, lambda body: signed(body, key))
        return decode_state(found.body, key) if found else None

    def make_model(self) -> ModelClient:
        if self.inputs.replay:
            path = Path(self.env.workspace, check_repo_path(self.inputs.replay))
            return replay_model(str(path))
        # Made on the first model call: applying an approved held phase needs no model (nor a key).
        client = lazy_model(self._anthropic)
        self._clients.append(client)
        return client

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
        files = [RepoFile(path=p, size=size) for p, size in ws.file_sizes()]
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

    def _gate_settings(self) -> GateSettings:
        inputs = self.inputs
        command = inputs.test_command.strip()
        if command.lower() == "none":
            if inputs.setup_command.strip():
                self.log.notice("setup_command is not run: test_command is none")
            return GateSettings(tests=False)
        settings = GateSettings(
            baseline_cache=baseline_cache_dir(inputs, self.env),
            test_python=inputs.test_python.strip() or None,
            setup_command=inputs.setup_command,
            test_env_dir=managed_env_dir(inputs, self.env),
            test_env_allow=inputs.test_env_allow,
        )
        return settings.model_copy(update={"test_command": command}) if command else settings

    def finalizer(self, ws: ActionWorkspace) -> Finalizer:
        """The gates (a setup command, when given, runs here: before any model call)."""
        return build_finalizer(ws, self._gate_settings(), self.log.progress)

    def execute(
        self,
        tracking: Tracking,
        ws: ActionWorkspace,
        model: ModelClient,
        spec: RunSpec,
        previous: RunState | None,
        finalizer: Finalizer,
        only: tuple[str, ...] = (),
        context: Mapping[str, str] | None = None,
        keep: tuple[str, ...] = (),
    ) -> int:
        """Run or resume the spec in a Session (`only` those phases, else all but `keep`, which
        stay as they are and do not count for the conclusion); then the follow-ups whose phase
        changed are answered (a follow-up run's conclusion is its phase's)."""
        session = Session(
            env=self.env,
            inputs=self.inputs,
            forge=self.forge,
            workspace=ws,
            model=model,
            finalizer=finalizer,
            tracking=tracking,
            log=self.log,
        )
        run = only or (tuple(p.id for p in spec.phases if p.id not in keep) if keep else ())
        outcome = session.run(spec, previous, run, context)
        settle_followups(self, tracking, outcome, only)
        finish(self.env, self.log, outcome, "\n\n".join(outcome.messages))
        return exit_code(outcome.conclusion)


def run_action(environ: Mapping[str, str], **kwargs: Any) -> int:
    return ActionRunner(environ, **kwargs).run()
