"""`autopack run`: run a spec's phases against a local checkout, with a local forge."""

from __future__ import annotations

import argparse
import functools
import signal
import threading
from pathlib import Path
from typing import Any

import yaml

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.governance_store import LocalGovernanceStore
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.spec_file import load_spec
from autopack.app.compose import (
    GateSettings,
    RunSettings,
    anthropic_model,
    build_executor,
    build_finalizer,
    goal_slug,
    model_id_for,
    plan_run,
    replay_model,
    run_slug,
)
from autopack.app.executor import Executor
from autopack.app.interrupted import settle_interrupted
from autopack.app.planner import RepoFile
from autopack.commands._common import add_context_arguments, instructions_text, next_steps, progress
from autopack.commands._gates import add_gate_arguments, gate_settings
from autopack.core.context.budget import ContextSettings
from autopack.core.render.reports import render_summary
from autopack.core.spec import RunSpec
from autopack.core.state import RunState
from autopack.core.telemetry import RunTelemetry, render_table
from autopack.errors import AutopackError
from autopack.ports import Finalizer, ModelClient, Workspace

REASON = "interrupted (Ctrl-C) before it finished; a re-run builds it again"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("run", help="run a spec against a local checkout")
    p.add_argument("--repo", default=".", help="the git checkout to change (default: .)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--spec", help="run spec (YAML or JSON)")
    what.add_argument("--goal", help="plan a spec for this goal with the model, then run it")
    what.add_argument("--goal-file", help="like --goal, with the goal text read from FILE")
    p.add_argument("--replay", help="serve model responses from this JSONL transcript (offline)")
    p.add_argument("--out", default="autopack-out", help="output folder (default: autopack-out)")
    p.add_argument(
        "--run-id", help="branch is autopack/<run-id> (default: from the spec file name)"
    )
    p.add_argument("--model", help="model id (default: the spec's, else the built-in default)")
    p.add_argument(
        "--max-tokens",
        type=int,
        help="a fixed max_tokens for every request (default: the budget policy sizes each phase)",
    )
    p.add_argument("--max-continuations", type=int, default=8)
    p.add_argument("--max-retries", type=int, default=4, help="SDK retries per request")
    p.add_argument("--push", action="store_true", help="push the branch to origin at the end")
    add_context_arguments(p)
    add_gate_arguments(p)
    p.set_defaults(func=run)


def default_run_id(spec_path: str) -> str:
    return run_slug(Path(spec_path).stem)


def make_model(args: argparse.Namespace) -> ModelClient:
    if args.replay:
        return replay_model(args.replay)
    return anthropic_model(max_retries=getattr(args, "max_retries", 4))


def goal_text(args: argparse.Namespace) -> str | None:
    """The goal of --goal or --goal-file, stripped; None when neither is given. An empty or
    blank goal is an error (before any model request is made for it)."""
    if args.goal_file:
        try:
            goal: str | None = Path(args.goal_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AutopackError(f"cannot read --goal-file {args.goal_file}: {exc}") from None
        source = f"--goal-file {args.goal_file}"
    else:
        goal, source = args.goal, "--goal"
    if goal is None:
        return None
    if not goal.strip():
        raise AutopackError(f"{source} is empty")
    return goal.strip()


def repo_files(workspace: GitWorkspace) -> list[RepoFile]:
    """Tracked files and their sizes, for the planner: every one (its answer is checked against
    them; the prompt lists at most a few hundred)."""
    return [RepoFile(path=path, size=size) for path, size in workspace.file_sizes()]


def execute(
    *,
    repo: str,
    spec_path: str,
    model: ModelClient,
    out: str,
    settings: RunSettings,
    spec: RunSpec | None = None,
    telemetry: RunTelemetry | None = None,
    previous: RunState | None = None,
    gates: GateSettings | None = None,
    phase_context: dict[str, str] | None = None,
    finalizer: Finalizer | None = None,
) -> RunState:
    """Run the spec; `gates` makes the finalizer (a setup command runs now) unless one is given."""
    spec = spec or load_spec(spec_path)
    workspace = GitWorkspace(repo)
    if finalizer is None and gates is not None:
        finalizer = build_finalizer(workspace, gates, progress)
    config = settings.executor_config()
    progress(f"autopack: {len(spec.phases)} phase(s) on branch {config.branch} in {workspace.root}")
    executor = build_executor(
        spec,
        workspace,
        model,
        LocalForge(out),
        config,
        finalizer=finalizer,
        progress=progress,
        telemetry=telemetry,
        audit=LocalGovernanceStore(out),
        phase_context=phase_context,
    )
    try:
        return executor.run(previous)
    except KeyboardInterrupt:  # Ctrl-C: cli.main reports it and exits 130
        settle_interrupt(executor)
        raise


def settle_interrupt(executor: Executor) -> None:
    """The phase Ctrl-C cut short is failed and the files it wrote are put back (only those:
    never a file of the user's), so the checkout is as the last commit left it and a re-run builds
    the phase again; state.json and telemetry.json are saved. A second Ctrl-C meanwhile is
    ignored, so the checkout is not left half put back."""
    ignoring = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignoring else None
    try:
        cut = settle_interrupted(executor.state, functools.partial(_put_back, executor.ws), REASON)
        executor.save_records()
    finally:
        if ignoring:
            signal.signal(signal.SIGINT, before)
    if cut:
        progress(f"autopack: interrupted during {', '.join(cut)}; its files were put back")


def _put_back(workspace: Workspace, paths: list[str]) -> None:
    try:
        workspace.discard_changes(paths)
    except Exception as exc:  # a git command cut short may hold the index lock
        progress(f"autopack: could not put back {', '.join(paths)}: {exc}")


def plan(
    args: argparse.Namespace, goal: str, model: ModelClient, telemetry: RunTelemetry
) -> RunSpec:
    """Plan a spec for `goal` with the model; the spec is saved to the output folder."""
    workspace = GitWorkspace(args.repo)
    files = repo_files(workspace)
    model_id = model_id_for(args.model)
    progress(f"autopack: planning with {model_id} ({len(files)} repo files, ranked repo map)")
    outcome = plan_run(
        model,
        model_id=model_id,
        goal=goal,
        files=files,
        telemetry=telemetry,
        workspace=workspace,
        context=ContextSettings(
            budget_tokens=args.context_budget, instructions=instructions_text(args.instructions)
        ),
    )
    saved = LocalForge(args.out).save_artifact(
        "planned-spec.yaml",
        yaml.safe_dump(
            outcome.spec.model_dump(mode="json", exclude_defaults=True), sort_keys=False
        ),
    )
    order = ", ".join(p.id for p in outcome.spec.phases)
    progress(f"autopack: planned {len(outcome.spec.phases)} phase(s): {order} (spec: {saved})")
    return outcome.spec


def run(args: argparse.Namespace) -> int:
    goal = goal_text(args)
    settings = RunSettings(
        run_id=args.run_id or (goal_slug(goal) if goal else default_run_id(args.spec)),
        model=args.model,
        max_tokens=args.max_tokens,
        max_continuations=args.max_continuations,
        push=args.push,
        repair_rounds=args.repair_rounds,
        instructions=instructions_text(args.instructions),
        context_budget=args.context_budget,
    )
    model = make_model(args)
    telemetry = RunTelemetry()
    # The gates first: a setup command runs (and may stop the run) before any model call.
    finalizer = build_finalizer(GitWorkspace(args.repo), gate_settings(args), progress)
    spec = plan(args, goal, model, telemetry) if goal else None
    state = execute(
        repo=args.repo,
        spec_path=args.spec or "",
        model=model,
        out=args.out,
        settings=settings,
        spec=spec,
        telemetry=telemetry,
        finalizer=finalizer,
    )
    print(render_summary(state))
    print(render_table(telemetry))
    for line in next_steps(state, args.out, args.repo):
        print(line)
    print(f"Reports: {Path(args.out).resolve()}")
    return 0 if state.succeeded else 1
