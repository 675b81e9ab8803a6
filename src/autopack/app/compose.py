"""The composition root: the ONE place where settings become ports and an Executor. The faces (the
CLI commands, the Action, the demo) decide settings from argv or the GitHub environment and call
here; nothing else constructs an Executor or picks adapters for it.

It is the only module of app/ that may import adapters (the layer test knows)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autopack.adapters.baseline_cache import DirBaselineStore, GitSnapshots, MemoryBaselineStore
from autopack.adapters.clock import SystemClock
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.lazy_model import LazyModelClient
from autopack.adapters.package_data import estimator_params, lookup
from autopack.adapters.pytest_runner import DEFAULT_COMMAND, PytestRunner
from autopack.adapters.replay_model import ReplayModelClient
from autopack.adapters.ruff_lint import RuffLinter
from autopack.adapters.test_env import (
    ManagedEnv,
    file_digests,
    make_env,
    python_version,
    run_setup,
)
from autopack.app.baseline import BaselineTracker
from autopack.app.context import FirstRequest, RunContext, plan_context
from autopack.app.executor import Executor, Progress
from autopack.app.finalizer import PhaseFinalizer
from autopack.app.governor import load_policy
from autopack.app.phase_budget import Budgeter
from autopack.app.planner import PlanOutcome, RepoFile, plan_spec
from autopack.app.test_setup import SetupAwareRunner
from autopack.core.budget.policy import BudgetSettings
from autopack.core.build import BuildSettings, ExecutorConfig
from autopack.core.context.budget import ContextSettings
from autopack.core.dag import topological_order
from autopack.core.events import EventSink, ignore
from autopack.core.gates.environment import parse_allow
from autopack.core.gates.packaging import is_packaging_file
from autopack.core.governance.comment import DEFAULT_LABELS
from autopack.core.governance.policy import GovernancePolicy
from autopack.core.governance.requests import DecisionLabels
from autopack.core.modeltable import DEFAULT_MODEL
from autopack.core.spec import Phase, RunSpec
from autopack.core.telemetry import PLAN_PHASE, PhaseTelemetry, RunTelemetry, request_telemetry
from autopack.errors import AutopackError, SetupError
from autopack.ports import (
    AuditLog,
    BaselineStore,
    Clock,
    Finalizer,
    Forge,
    ModelClient,
    SuiteRunner,
    Workspace,
)


class RunSettings(BaseModel):
    """What a face decides about a run (the CLI from flags, the Action from its inputs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    model: str | None = None
    base_branch: str = "main"
    max_tokens: int | None = Field(
        default=None, gt=0, description="A fixed max_tokens; None lets the budget policy size each"
    )
    max_continuations: int = Field(default=8, ge=0)
    push: bool = False
    issue_number: int | None = None
    repair_rounds: int = Field(default=1, ge=0)
    only_phases: tuple[str, ...] = ()  # a follow-up: run these, keep the others as they were
    instructions: str = Field(default="", description="Extra guidance for the model")
    context_budget: int | None = Field(
        default=None,
        ge=0,
        description="Tokens of repo context per phase; None: the spec's, else sized",
    )

    def executor_config(self) -> ExecutorConfig:
        default = BuildSettings().max_tokens
        return ExecutorConfig(
            run_id=self.run_id,
            model=self.model,
            base_branch=self.base_branch,
            build=BuildSettings(
                max_tokens=self.max_tokens or default, max_continuations=self.max_continuations
            ),
            budget=BudgetSettings() if self.max_tokens is None else None,
            push=self.push,
            issue_number=self.issue_number,
            repair_rounds=self.repair_rounds,
            only_phases=self.only_phases,
            context=ContextSettings(
                budget_tokens=self.context_budget, instructions=self.instructions
            ),
        )


class GateSettings(BaseModel):
    """The phase finalizer's gates: the repo's tests against a cached baseline, optional ruff.
    With a `setup_command`, the tests run in a managed environment made in `test_env_dir` from
    `test_python` (adapters/test_env.py); without one, with `test_python` itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tests: bool = True
    test_command: str = DEFAULT_COMMAND
    test_python: str | None = None
    test_timeout_s: float = Field(default=600.0, gt=0)
    plugin_autoload: bool = True
    baseline_cache: str | None = None  # folder; None keeps the baseline in memory for the run
    lint: bool = False
    coverage: bool = False
    setup_command: str = ""
    test_env_dir: str | None = None  # where the managed environment goes (with a setup command)
    test_env_allow: tuple[str, ...] = ()  # more variable names the tests and the setup may see
    use_uv: bool = True
    setup_timeout_s: float = Field(default=1800.0, gt=0)

    @field_validator("test_env_allow", mode="before")
    @classmethod
    def _allow(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str | list | tuple):
            return parse_allow(value)
        raise ValueError("a list of variable names")


def run_slug(text: str, default: str = "run") -> str:
    """A branch-safe run id from a file stem or a goal: lower case, [a-z0-9._-]."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")
    return slug or default


def goal_slug(goal: str) -> str:
    """A run id from the first five words of a goal."""
    words = re.findall(r"[a-z0-9]+", goal.lower())[:5]
    return "-".join(words)[:40].strip("-") or "goal"


def model_id_for(settings_model: str | None, spec: RunSpec | None = None) -> str:
    return settings_model or (spec.model if spec else None) or DEFAULT_MODEL


def _packaging(workspace: GitWorkspace) -> dict[str, str]:
    """Digest of each packaging file of the working tree (tracked, or new and untracked)."""
    paths = set(workspace.list_files()) | workspace.dirty_paths()
    return file_digests(workspace.root, sorted(p for p in paths if is_packaging_file(p)))


def _setup(workspace: GitWorkspace, settings: GateSettings, env: ManagedEnv) -> tuple[float, int]:
    """Run the setup command in the repo; (its seconds, untracked files it made). A setup that
    changes tracked files is refused and they are put back as they were (HEAD's, or the phase's
    edit): a phase could commit what it wrote there."""
    tracked, dirty = set(workspace.list_files()), workspace.dirty_paths()
    kept = file_digests(workspace.root, sorted(dirty & tracked))  # a phase's edits, say
    seconds = run_setup(
        settings.setup_command.strip(),
        workspace.root,
        env,
        env_allow=settings.test_env_allow,
        timeout_s=settings.setup_timeout_s,
    )
    after = workspace.dirty_paths()
    now = file_digests(workspace.root, sorted(after & tracked))
    changed = sorted(p for p in after & tracked if p not in dirty or now.get(p) != kept.get(p))
    if changed:
        workspace.discard_changes([p for p in changed if p not in dirty])
        if any(p in dirty for p in changed):
            raise SetupError(
                f"the setup command changed tracked files the phase had edited: "
                f"{', '.join(p for p in changed if p in dirty)}; make it leave tracked files alone"
            )
        raise SetupError(
            f"the setup command changed tracked files: {', '.join(changed[:10])} (put back); a "
            "phase could commit what it wrote there: make it leave tracked files alone (e.g. "
            "`uv sync --frozen` keeps uv.lock)"
        )
    return seconds, len(after - dirty)


def _test_runner(
    workspace: GitWorkspace, settings: GateSettings, progress: Callable[[str], None]
) -> SuiteRunner:
    """The runner of the gates; with a setup command, in the managed environment, made (or
    reused) and set up now, before any model call, and set up again when a phase changes the
    packaging files (app/test_setup.py). A --test-python that does not run is an error now too,
    not a blocked baseline after each phase was built."""
    runner = functools.partial(
        PytestRunner,
        settings.test_command,
        timeout_s=settings.test_timeout_s,
        coverage=settings.coverage,
        plugin_autoload=settings.plugin_autoload,
        env_allow=settings.test_env_allow,
    )
    command = settings.setup_command.strip()
    if not command:
        if settings.test_python:
            python_version(settings.test_python)  # one that does not run stops the run now
        return runner(python_exe=settings.test_python)
    if not settings.test_env_dir:
        raise SetupError("a setup command needs a folder for the test environment")
    env = make_env(
        settings.test_env_dir,
        base_python=settings.test_python,
        use_uv=settings.use_uv,
        env_allow=settings.test_env_allow,
    )
    how = "made" if env.created else "reused"
    progress(
        f"autopack: test environment {env.folder} {how} with {env.installer} in {env.seconds:.1f} s"
    )
    seconds, made = _setup(workspace, settings, env)
    packaging = _packaging(workspace)  # what this setup ran on
    extra = f"; it made {made} untracked file(s), never committed" if made else ""
    progress(f"autopack: setup command finished in {seconds:.1f} s{extra}")
    return SetupAwareRunner(
        runner(python_exe=env.python, venv_vars=env.variables(), env_key=env.key(command)),
        setup=lambda: _setup(workspace, settings, env)[0],
        fingerprint=lambda: _packaging(workspace),
        baseline=packaging,
        progress=progress,
    )


def build_finalizer(
    workspace: GitWorkspace,
    settings: GateSettings,
    progress: Callable[[str], None] = lambda _msg: None,
) -> PhaseFinalizer:
    """The gates. With a setup command this makes the test environment and runs the command
    (a SetupError stops the run), so faces call it before anything calls the model."""
    snapshots = GitSnapshots(workspace.root)
    tracker = None
    if settings.tests:
        store: BaselineStore = (
            DirBaselineStore(settings.baseline_cache)
            if settings.baseline_cache
            else MemoryBaselineStore()
        )
        tracker = BaselineTracker(_test_runner(workspace, settings, progress), store, progress)
    return PhaseFinalizer(
        workspace.root,
        workspace,
        lambda path: snapshots.read_at("HEAD", path),
        workspace.head_sha,
        tracker=tracker,
        linter=RuffLinter() if settings.lint else None,
    )


def build_executor(
    spec: RunSpec,
    workspace: Workspace,
    model: ModelClient,
    forge: Forge,
    config: ExecutorConfig,
    *,
    finalizer: Finalizer | None = None,
    progress: Progress | None = None,
    telemetry: RunTelemetry | None = None,
    audit: AuditLog | None = None,
    policy: GovernancePolicy | None = None,
    labels: DecisionLabels = DEFAULT_LABELS,
    on_event: EventSink = ignore,
    clock: Clock | None = None,
    phase_context: Mapping[str, str] | None = None,
) -> Executor:
    """The Executor with the package data (model table, estimator constants) and the clock;
    `phase_context` adds text to the prompt of the phases it names (a follow-up's context)."""
    return Executor(
        spec,
        workspace,
        model,
        forge,
        config,
        model_info=lookup(model_id_for(config.model, spec)),
        estimator=estimator_params(),
        clock=clock or SystemClock(),
        finalizer=finalizer,
        progress=progress,
        telemetry=telemetry,
        policy=policy,
        audit=audit,
        labels=labels,
        on_event=on_event,
        phase_context=phase_context,
    )


def plan_run(
    model: ModelClient,
    *,
    model_id: str,
    goal: str,
    files: list[RepoFile],
    telemetry: RunTelemetry,
    clock: Clock | None = None,
    workspace: Workspace | None = None,
    context: ContextSettings | None = None,
) -> PlanOutcome:
    """Plan a spec for `goal` with the model and record the planning request(s) in `telemetry`.
    With `workspace`, the planner sees the repo's instructions and map (context engine)."""
    clock = clock or SystemClock()
    started = clock.now()
    repo = None
    if workspace is not None:
        repo = plan_context(workspace, goal, lookup(model_id), context or ContextSettings())
    sizing = (lookup(model_id), estimator_params())
    outcome = plan_spec(model, model=model_id, goal=goal, files=files, context=repo, sizing=sizing)
    telemetry.add(
        PhaseTelemetry(
            phase_id=PLAN_PHASE,
            status="planned",
            requests=request_telemetry(outcome.requests, lookup(model_id)),
            repairs=outcome.repairs,
            wall_s=round((clock.now() - started).total_seconds(), 3),
        )
    )
    return outcome


def phase_request(
    spec: RunSpec, workspace: Workspace, settings: RunSettings, phase_id: str | None = None
) -> tuple[Phase, FirstRequest]:
    """The first request the executor would send for a phase (default: the first in dependency
    order) at the checkout as it is: the same budget plan, protected paths and context. Offline;
    nothing is written."""
    order = topological_order(spec.phases)
    if not order:
        raise AutopackError("the spec has no phases")
    if phase_id is not None and phase_id not in order:
        raise AutopackError(f"no phase {phase_id!r} in the spec (phases: {', '.join(order)})")
    phase = spec.phase(phase_id or order[0])
    config = settings.executor_config()
    info = lookup(model_id_for(config.model, spec))
    budgeter = Budgeter(workspace, None, info, estimator_params(), config)
    context = RunContext(workspace, spec, info, config.context, budgeter.estimate_tokens)
    protected = list(load_policy(workspace, spec).protected)
    request = budgeter.prepare(phase).first_request(context, spec.goal, protected)
    return phase, request


def replay_model(path: str) -> ModelClient:
    return ReplayModelClient.from_file(path)


def anthropic_model(
    *, api_key: str | None = None, base_url: str | None = None, max_retries: int = 4
) -> ModelClient:
    """The Anthropic client: from the given key, else from ANTHROPIC_API_KEY (a clear error when
    neither is set). Imported here: the SDK takes a while to import and only real runs need it."""
    from autopack.adapters.anthropic_model import AnthropicModelClient

    if api_key is not None:
        return AnthropicModelClient(api_key=api_key, base_url=base_url, max_retries=max_retries)
    return AnthropicModelClient.from_env(max_retries=max_retries)


def lazy_model(make: Callable[[], ModelClient]) -> ModelClient:
    """A client made on the first model call (applying approved held ops needs no key)."""
    return LazyModelClient(make)


__all__ = [
    "GateSettings",
    "RunSettings",
    "anthropic_model",
    "build_executor",
    "build_finalizer",
    "goal_slug",
    "lazy_model",
    "model_id_for",
    "phase_request",
    "plan_run",
    "replay_model",
    "run_slug",
]
