"""`autopack context --repo DIR --spec SPEC [--phase ID]`: print a phase's first build request as
the executor would send it (the system prompt, a line `-----`, the phase prompt), offline: no model
call, nothing written. A one-line summary of its sections' sizes goes to stderr."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.spec_file import load_spec
from autopack.app.compose import RunSettings, phase_request
from autopack.app.context import FirstRequest
from autopack.commands._common import add_context_arguments, instructions_text

HELP = "print a phase's first request (system prompt, -----, phase prompt) offline"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("context", help=HELP)
    p.add_argument("--repo", default=".", help="the git checkout (default: .)")
    p.add_argument("--spec", required=True, help="run spec (YAML or JSON)")
    p.add_argument("--phase", help="phase id (default: the first in dependency order)")
    p.add_argument("--model", help="model id (default: the spec's, else the built-in default)")
    p.add_argument(
        "--max-tokens",
        type=int,
        help="as for `run`: a fixed max_tokens (the budget policy then sizes nothing)",
    )
    add_context_arguments(p)
    p.set_defaults(func=run)


def summary(phase_id: str, request: FirstRequest, seconds: float) -> str:
    s = request.sections
    return (
        f"context of phase {phase_id}: system {s['system']:,} tokens (instructions "
        f"{s['instructions']:,}, repo map {s['repo_map']:,}) + prompt {s['prompt']:,} "
        f"(deliverables {s['deliverables']:,}, related {s['related']:,}) = "
        f"{s['system'] + s['prompt']:,} tokens (chars/3.6); built in {seconds:.2f} s"
    )


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    settings = RunSettings(
        run_id="context",
        model=args.model,
        max_tokens=args.max_tokens,
        instructions=instructions_text(args.instructions),
        context_budget=args.context_budget,
    )
    started = time.perf_counter()
    phase, request = phase_request(spec, GitWorkspace(args.repo), settings, args.phase)
    elapsed = time.perf_counter() - started
    sys.stdout.write(request.printed if request.printed.endswith("\n") else request.printed + "\n")
    print(summary(phase.id, request, elapsed), file=sys.stderr)
    return 0
