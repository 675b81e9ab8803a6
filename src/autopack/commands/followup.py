"""`autopack followup`: one follow-up phase on a local run's branch, the same phase a maintainer's
`/autopack <instruction>` comment makes on GitHub (core/followup.py): its goal is the instruction,
its prompt has the branch's diff against the run's base and, with --path/--line, that file with the
line marked. Only that phase runs (the run's other phases keep their state); the gates, governance
holds (then `autopack approve` + `autopack resume`), telemetry and the spec's cost budget apply as to
any phase. The same instruction again (same --path and --line) is the same phase: once committed,
it is not run again."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.governance_store import LocalGovernanceStore
from autopack.app.compose import RunSettings, lazy_model
from autopack.commands._common import next_steps, progress
from autopack.commands._gates import add_gate_arguments, gate_settings
from autopack.core.comment_command import instruction_text
from autopack.core.followup import Anchor, followup_context, followup_phase, followup_phase_id
from autopack.core.paths import check_repo_path
from autopack.core.render.reports import render_summary
from autopack.core.state import PhaseStatus
from autopack.core.telemetry import render_table
from autopack.errors import AutopackError, PathPolicyError, WorkspaceError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "followup", help="run one follow-up phase on a local run's branch"
    )
    p.add_argument("--out", default="autopack-out", help="the run's output folder")
    p.add_argument("--repo", default=".", help="the git checkout of the run (default: .)")
    p.add_argument("--instruction", required=True, help="what to change, as a reviewer says it")
    p.add_argument("--path", help="the file the instruction is about (a review comment's file)")
    p.add_argument("--line", type=int, help="the line of --path it is about (marked in the prompt)")
    p.add_argument("--by", default="a maintainer", help="who asks (named in the phase title)")
    p.add_argument("--replay", help="serve model responses from this JSONL transcript (offline)")
    p.add_argument("--model", help="model id (default: the spec's, else the built-in default)")
    p.add_argument("--max-tokens", type=int, help="a fixed max_tokens for every request")
    p.add_argument("--max-retries", type=int, default=4, help="SDK retries per request")
    p.add_argument("--push", action="store_true", help="push the branch to origin at the end")
    add_gate_arguments(p)
    p.set_defaults(func=run_followup)


def _key(instruction: str, path: str | None, line: int | None) -> str:
    raw = f"{instruction}\0{path or ''}\0{line or ''}".encode()
    return hashlib.sha256(raw).hexdigest()[:10]


def _anchor(args: argparse.Namespace) -> Anchor | None:
    if args.line is not None and not args.path:
        raise AutopackError("--line needs --path (the file the line is in)")
    if not args.path:
        return None
    try:
        return Anchor(path=check_repo_path(args.path), line=args.line)
    except PathPolicyError as exc:
        raise AutopackError(f"--path: {exc}") from None


def _context(workspace: GitWorkspace, branch: str, base: str, anchor: Anchor | None) -> str:
    """The branch's diff against the run's base and the anchored file, as on the branch."""
    repo = workspace.repo
    if repo.head.is_detached or repo.active_branch.name != branch:
        repo.heads[branch].checkout()  # prepare_branch does the same, with the same checks
    try:
        diff = workspace.diff_since(base) if base else None
    except WorkspaceError as exc:
        progress(f"autopack: no diff for the prompt: {exc}")
        diff = None
    data = None
    if anchor is not None:
        try:
            data = workspace.read(anchor.path)
        except PathPolicyError:
            data = None
    return followup_context(diff, anchor, data)


def run_followup(args: argparse.Namespace) -> int:
    from autopack.commands.run import execute, make_model

    instruction = instruction_text(args.instruction)
    if not instruction:
        raise AutopackError("--instruction is empty")
    anchor = _anchor(args)
    store = LocalGovernanceStore(args.out)
    previous = store.load_state()
    spec = store.load_spec(previous.run_id)  # refused if of another run
    phase_id = followup_phase_id(_key(instruction, args.path, args.line))
    workspace = GitWorkspace(args.repo)
    if previous.branch not in workspace.repo.heads:
        raise AutopackError(f"branch {previous.branch} of the run is not in {workspace.root}")
    if workspace.is_dirty():
        raise WorkspaceError(f"{workspace.root} has uncommitted changes; commit them first")
    context = _context(workspace, previous.branch, previous.base_sha, anchor)
    if all(p.id != phase_id for p in spec.phases):
        phase = followup_phase(phase_id, instruction, args.by)
        spec = spec.model_copy(update={"phases": (*spec.phases, phase)})
    settings = RunSettings(
        run_id=previous.run_id,
        model=args.model,
        max_tokens=args.max_tokens,
        push=args.push,
        repair_rounds=args.repair_rounds,
        only_phases=(phase_id,),
    )
    model = make_model(args) if args.replay else lazy_model(lambda: make_model(args))
    progress(f"autopack: follow-up {phase_id} on {previous.branch}")
    telemetry = store.load_telemetry()  # the run's requests so far stay counted
    try:
        state = execute(
            repo=args.repo,
            spec_path="",
            model=model,
            out=args.out,
            settings=settings,
            spec=spec,
            previous=previous,
            gates=gate_settings(args),
            telemetry=telemetry,
            phase_context={phase_id: context},
        )
    finally:
        close = getattr(model, "close", None)
        if close is not None:
            close()  # the SDK's connections
    print(render_summary(state))
    print(render_table(telemetry))
    for line in next_steps(state, args.out, args.repo):
        print(line)
    record = state.phase(phase_id)
    print(f"Reports: {Path(args.out).resolve()}")
    return 0 if record.status is PhaseStatus.committed else 1
