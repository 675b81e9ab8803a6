"""`autopack demo`: the whole engine offline on a generated repo, with a built-in replay transcript."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import git
import yaml

from autopack.adapters.replay_model import dump_transcript
from autopack.app.compose import GateSettings, RunSettings, replay_model
from autopack.commands._common import progress
from autopack.commands.governance import decide_locally, resume_run
from autopack.commands.run import execute
from autopack.core.governance.requests import Decision, RequestState
from autopack.core.render.reports import render_summary
from autopack.core.state import PhaseStatus, RunState
from autopack.core.telemetry import RunTelemetry, render_table
from autopack.demo import scenario
from autopack.errors import AutopackError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo", help="run the engine offline on a generated repo (no API key needed)"
    )
    p.add_argument("--dir", help="where to create the demo (default: a new temp folder)")
    p.set_defaults(func=run)


def make_repo(root: Path) -> tuple[Path, Path]:
    """A checkout of a small package with tests, and its bare origin with `main` pushed."""
    origin, work = root / "origin.git", root / "calc"
    mine = (origin, work, root / "out", root / "spec.yaml", root / "transcript.jsonl")
    taken = [p.name for p in mine if p.exists() or p.is_symlink()]
    if taken:
        raise AutopackError(
            f"--dir {root} already holds {', '.join(taken)} (an earlier demo?): give a new or "
            "empty folder, or remove those"
        )
    git.Repo.init(origin, bare=True, initial_branch="main")
    repo = git.Repo.init(work, initial_branch="main")
    for rel, text in scenario.REPO_FILES.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Demo Maintainer")
        cw.set_value("user", "email", "maintainer@example.invalid")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "Initial calc package")
    repo.create_remote("origin", str(origin))
    repo.git.push("-q", "origin", "main")
    return work, origin


def approve_and_resume(
    state: RunState,
    work: Path,
    out: Path,
    transcript: Path,
    settings: RunSettings,
    gates: GateSettings,
    telemetry: RunTelemetry,
) -> RunState:
    """The maintainer's part: approve each pending governance request through the same code path
    as `autopack approve ID --by NAME`, then `autopack resume`."""
    pending = [r for r in state.requests if r.state is RequestState.pending]
    for request in pending:
        progress(f"autopack demo: approving request {request.id} ({', '.join(request.paths)})")
        decide_locally(
            out=str(out),
            repo=str(work),
            request_id=request.id,
            decision=Decision.approve,
            actor="Demo Maintainer",
        )
    if not pending:
        return state
    progress("autopack demo: resuming the run")
    return resume_run(
        out=str(out),
        repo=str(work),
        overrides={"push": settings.push},
        spec=None,
        model=replay_model(str(transcript)),
        gates=gates,
        telemetry=telemetry,
    )


def whole_demo(first: RunState, resumed: RunState) -> RunState:
    """The demo's summary covers both of its passes: a phase the first pass committed shows as
    built by this demo (its ops and cost), not as an earlier run's."""
    mine = {r.id: r for r in first.phases if r.status is PhaseStatus.committed}
    phases = [
        mine[r.id] if r.id in mine and mine[r.id].commit_sha == r.commit_sha else r
        for r in resumed.phases
    ]
    return resumed.model_copy(update={"phases": phases})


def demo_root(folder: str | None) -> Path:
    """The demo's folder: `folder` (created if missing) or a new temp folder."""
    if not folder:
        return Path(tempfile.mkdtemp(prefix="autopack-demo-")).resolve()
    root = Path(folder).resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise AutopackError(f"--dir {root} is a file, not a folder: give a folder") from None
    except OSError as exc:
        raise AutopackError(f"--dir {root}: cannot create the folder: {exc}") from None
    return root


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    root = demo_root(args.dir)
    progress(f"autopack demo: creating a sample repo in {root}")
    work, origin = make_repo(root)
    spec_path = root / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(scenario.SPEC, sort_keys=False), encoding="utf-8")
    transcript = root / "transcript.jsonl"
    transcript.write_text(dump_transcript(scenario.transcript()), encoding="utf-8")
    out = root / "out"
    settings = RunSettings(run_id="demo", push=True)
    branch = settings.executor_config().branch
    telemetry = RunTelemetry()
    # The demo repo's tests need no pytest plugin: load none but the JSON report (faster).
    gates = GateSettings(plugin_autoload=False, baseline_cache=str(out / "baseline-cache"))
    state = execute(
        repo=str(work),
        spec_path=str(spec_path),
        model=replay_model(str(transcript)),
        out=str(out),
        settings=settings,
        telemetry=telemetry,
        gates=gates,
    )
    first = state
    state = whole_demo(
        first, approve_and_resume(state, work, out, transcript, settings, gates, telemetry)
    )
    pushed = git.Repo(origin).git.log("--format=%h %s", f"refs/heads/{branch}", "main..")
    print(render_summary(state))
    print(render_table(telemetry))
    print(f"Branch {branch} on the bare origin {origin}:")
    for line in pushed.splitlines():
        print(f"  {line}")
    print(f"Repo: {work}\nSpec: {spec_path}\nTranscript: {transcript}\nReports: {out}")
    print(f"Done in {time.monotonic() - started:.1f} s.")
    return 0 if state.succeeded else 1
