"""`autopack approve`, `autopack deny` and `autopack resume`: decide a held phase's governance
request locally and continue the run. The decision goes through `app.governor.apply_decision`,
the same code path the Action uses for the `autopack:approve` / `autopack:deny` labels."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

import git

from autopack.adapters.clock import SystemClock
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.governance_store import LocalGovernanceStore
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.spec_file import load_spec
from autopack.app.compose import GateSettings, RunSettings, lazy_model
from autopack.app.governor import apply_decision, load_policy
from autopack.commands._common import add_context_arguments, instructions_text, next_steps
from autopack.commands._gates import add_gate_arguments, gate_settings
from autopack.core.governance.decide import DecisionResult
from autopack.core.governance.requests import Decision
from autopack.core.render.reports import render_summary
from autopack.core.spec import RunSpec
from autopack.core.state import RunState
from autopack.core.telemetry import RunTelemetry
from autopack.errors import GovernanceError
from autopack.ports import Clock, ModelClient


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="autopack-out", help="the run's output folder")
    p.add_argument("--repo", default=".", help="the git checkout of the run (default: .)")


def register(sub: Any) -> None:
    for name, verb in (("approve", "approve"), ("deny", "deny")):
        p: argparse.ArgumentParser = sub.add_parser(
            name, help=f"{verb} a held phase's governance request"
        )
        p.add_argument("request_id", metavar="REQUEST_ID", help="the request id (or a prefix)")
        p.add_argument("--by", required=True, metavar="NAME", help="who decides (for the audit)")
        _common(p)
        p.set_defaults(func=run_decision, decision=Decision(name))
    r: argparse.ArgumentParser = sub.add_parser(
        "resume", help="continue a run after governance decisions"
    )
    _common(r)
    r.add_argument("--spec", help="run spec (default: the spec.json the run saved in --out)")
    r.add_argument("--replay", help="serve model responses from this JSONL transcript (offline)")
    r.add_argument("--model", help="model id (default: the spec's, else the built-in default)")
    r.add_argument(
        "--max-tokens",
        type=int,
        help="a fixed max_tokens for every request (default: the budget policy sizes each phase)",
    )
    r.add_argument("--max-continuations", type=int, default=8)
    r.add_argument("--max-retries", type=int, default=4, help="SDK retries per request")
    r.add_argument("--push", action="store_true", help="push the branch to origin at the end")
    add_context_arguments(r)
    add_gate_arguments(r)
    r.set_defaults(func=run_resume)


def branch_head(repo: str, branch: str) -> str:
    workspace = GitWorkspace(repo)
    try:
        return str(workspace.repo.commit(branch).hexsha)
    except (git.BadName, ValueError) as exc:
        raise GovernanceError(f"branch {branch} does not exist in {workspace.root}") from exc


def decide_locally(
    *,
    out: str,
    repo: str,
    request_id: str,
    decision: Decision,
    actor: str,
    clock: Clock | None = None,
) -> DecisionResult:
    """Decide a request of the run in `out` (checkout `repo`) and save the state: what
    `autopack approve/deny` do, callable from the demo and tests."""
    store = LocalGovernanceStore(out)
    state = store.load_state()
    spec = store.load_spec(state.run_id)
    policy = load_policy(GitWorkspace(repo), spec)
    head = branch_head(repo, state.branch)
    try:
        return apply_decision(
            state,
            request_id,
            decision,
            actor,
            head,
            clock=clock or SystemClock(),
            audit=store,
            forge=LocalForge(out),
            ttl=timedelta(hours=policy.request_ttl_hours),
        )
    finally:
        store.save_state(state)


def run_decision(args: argparse.Namespace) -> int:
    result = decide_locally(
        out=args.out,
        repo=args.repo,
        request_id=args.request_id,
        decision=args.decision,
        actor=args.by,
    )
    req = result.request
    if not result.changed:
        print(f"request {req.id} ({req.phase_id}) is already {req.state.value}; nothing changed")
    else:
        print(f"request {req.id} ({req.phase_id}) {req.state.value} by {req.decided_by}")
        print(f"Next: autopack resume --out {args.out} --repo {args.repo}")
    return 0


def resume_run(
    *,
    out: str,
    repo: str,
    overrides: dict[str, Any],
    spec: RunSpec | None,
    model: ModelClient,
    gates: GateSettings | None = None,
    telemetry: RunTelemetry | None = None,
) -> RunState:
    """Continue the run saved in `out`: committed phases are skipped, approved held phases are
    applied, denied ones stay denied, and the rest run."""
    from autopack.commands.run import execute

    store = LocalGovernanceStore(out)
    previous = store.load_state()
    spec = spec or store.load_spec(previous.run_id)  # refused if of another run
    telemetry = telemetry or store.load_telemetry()  # the run's requests so far stay counted
    settings = RunSettings(run_id=previous.run_id, **overrides)
    branch = settings.executor_config().branch
    if branch != previous.branch:
        raise GovernanceError(f"run state is for {previous.branch}, not {branch}")
    return execute(
        repo=repo,
        spec_path="",
        model=model,
        out=out,
        settings=settings,
        spec=spec,
        previous=previous,
        gates=gates,
        telemetry=telemetry,
    )


def run_resume(args: argparse.Namespace) -> int:
    from autopack.commands.run import make_model

    # Without --replay the client is made on the first model call: approved held phases and
    # committed ones need none, so such a resume works offline (no API key). A given --replay is
    # read now, so a bad path is an error at once.
    model = make_model(args) if args.replay else lazy_model(lambda: make_model(args))
    state = resume_run(
        out=args.out,
        repo=args.repo,
        overrides={
            "model": args.model,
            "max_tokens": args.max_tokens,
            "max_continuations": args.max_continuations,
            "push": args.push,
            "repair_rounds": args.repair_rounds,
            "instructions": instructions_text(args.instructions),
            "context_budget": args.context_budget,
        },
        spec=load_spec(args.spec) if args.spec else None,
        model=model,
        gates=gate_settings(args),
    )
    print(render_summary(state))
    for line in next_steps(state, args.out, args.repo):
        print(line)
    print(f"Reports: {Path(args.out).resolve()}")
    return 0 if state.succeeded else 1
