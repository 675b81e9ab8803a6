"""`autopack run`: run a spec's phases against a local checkout, with a local forge."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient
from autopack.builder import BuildSettings
from autopack.commands._common import progress
from autopack.errors import AutopackError
from autopack.executor import Executor, ExecutorConfig
from autopack.model_api import ModelClient
from autopack.reports import render_summary
from autopack.spec import load_spec
from autopack.state import RunState


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("run", help="run a spec against a local checkout")
    p.add_argument("--repo", default=".", help="the git checkout to change (default: .)")
    p.add_argument("--spec", required=True, help="run spec (YAML or JSON)")
    p.add_argument("--replay", help="serve model responses from this JSONL transcript (offline)")
    p.add_argument("--out", default="autopack-out", help="output folder (default: autopack-out)")
    p.add_argument(
        "--run-id", help="branch is autopack/<run-id> (default: from the spec file name)"
    )
    p.add_argument("--model", help="model id (default: the spec's, else the built-in default)")
    p.add_argument("--max-tokens", type=int, default=16_000, help="max_tokens per request")
    p.add_argument("--max-continuations", type=int, default=8)
    p.add_argument("--push", action="store_true", help="push the branch to origin at the end")
    p.set_defaults(func=run)


def default_run_id(spec_path: str) -> str:
    stem = Path(spec_path).stem.lower()
    return re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-.") or "run"


def make_model(args: argparse.Namespace) -> ModelClient:
    if args.replay:
        return ReplayModelClient.from_file(args.replay)
    raise AutopackError("no model: pass --replay FILE (the Anthropic adapter is not configured)")


def execute(
    *,
    repo: str,
    spec_path: str,
    model: ModelClient,
    out: str,
    config: ExecutorConfig,
) -> RunState:
    spec = load_spec(spec_path)
    workspace = GitWorkspace(repo)
    forge = LocalForge(out)
    progress(f"autopack: {len(spec.phases)} phase(s) on branch {config.branch} in {workspace.root}")
    return Executor(spec, workspace, model, forge, config, progress=progress).run()


def run(args: argparse.Namespace) -> int:
    config = ExecutorConfig(
        run_id=args.run_id or default_run_id(args.spec),
        model=args.model,
        build=BuildSettings(max_tokens=args.max_tokens, max_continuations=args.max_continuations),
        push=args.push,
    )
    state = execute(
        repo=args.repo, spec_path=args.spec, model=make_model(args), out=args.out, config=config
    )
    print(render_summary(state))
    print(f"Reports: {Path(args.out).resolve()}")
    return 0 if state.succeeded else 1
