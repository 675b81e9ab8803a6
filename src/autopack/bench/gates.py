"""`autopack bench gates`: the cost of the test gates on a real repo's commits.

The last N commits of a repo are replayed as N phases of one run through the real executor: each
phase's ops write the files its commit changed (their content at that commit; paths the built-in
governance policy protects, like `.github/`, and binary files are left out) on top of the commit N
back. The same run is made twice with one baseline cache folder: cold (an empty cache) and warm
(the cache the cold run left), each in a fresh clone. Per phase: test-suite runs, tests executed,
test wall time, baseline cache hit or miss (from the run's telemetry), and its status. With a setup
command, the managed environment's set-up time (made or reused) is reported too."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git
from pydantic import BaseModel, ConfigDict, Field

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.compose import GateSettings, RunSettings, build_executor, build_finalizer
from autopack.core.governance.policy import BUILTIN_PROTECTED, matches_any
from autopack.core.spec import parse_spec
from autopack.core.telemetry import RunTelemetry
from autopack.core.usage import Usage
from autopack.errors import WorkspaceError


class GatesBenchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    commits: int = Field(default=6, ge=1, le=100)
    test_command: str = "python -m pytest"
    setup_command: str = ""
    plugin_autoload: bool = True
    test_timeout_s: float = Field(default=1800.0, gt=0)


class PhaseCost(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: str
    subject: str
    status: str
    suite_runs: int
    tests: int
    test_s: float
    baseline: str


class RunCost(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str  # cold or warm
    setup_s: float  # finalizer construction: the environment and the setup command
    phases: list[PhaseCost]


def _ndjson(ops: list[dict[str, Any]]) -> str:
    import json

    return "".join(json.dumps({**op, "id": n}) + "\n" for n, op in enumerate(ops, 1))


def commit_ops(repo: git.Repo, sha: str) -> list[dict[str, Any]]:
    """Ops writing what commit `sha` changed (protected and binary files left out)."""
    parent = repo.commit(sha).parents[0].hexsha
    out = repo.git.diff("--name-status", "--no-renames", "-z", parent, sha)
    fields = [f for f in out.split("\0") if f]
    ops: list[dict[str, Any]] = []
    for status, path in zip(fields[::2], fields[1::2], strict=True):
        if matches_any(BUILTIN_PROTECTED, path):
            continue
        if status.startswith("D"):
            ops.append({"op": "delete", "path": path})
            continue
        data = repo.git.show(f"{sha}:{path}", stdout_as_string=False)
        try:
            ops.append({"op": "write", "path": path, "content": data.decode("utf-8")})
        except UnicodeDecodeError:
            continue
    return [*ops, {"op": "done", "summary": f"replayed {sha[:10]}"}]


def _commits_to_replay(source: Path, commits: int) -> tuple[git.Repo, list[str]]:
    """The repo and its last `commits` first-parent commits that have a parent, oldest first;
    a WorkspaceError when `source` is no repository or has no such commit."""
    try:
        repo = git.Repo(source)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise WorkspaceError(f"--repo {source} is not a git repository") from None
    try:
        listed = repo.git.rev_list("--first-parent", f"--max-count={commits}", "HEAD").split()
    except git.GitCommandError:
        raise WorkspaceError(f"--repo {source} has no commits (HEAD names none)") from None
    # A root commit has no parent to replay it on.
    shas = [sha for sha in listed[::-1] if repo.commit(sha).parents]
    if not shas:
        raise WorkspaceError(
            f"--repo {source} has no commit with a parent to replay (it needs at least two)"
        )
    return repo, shas


def replay_material(
    source: Path, commits: int
) -> tuple[str, dict[str, Any], list[ReplayRecord], list[str]]:
    """The base commit, the spec (one phase per commit), the replay records and the subjects."""
    repo, shas = _commits_to_replay(source, commits)
    base = repo.commit(shas[0]).parents[0].hexsha
    phases, records, subjects = [], [], []
    for n, sha in enumerate(shas, 1):
        pid = f"c{n}"
        subject = repo.commit(sha).summary
        subjects.append(str(subject))
        phases.append(
            {
                "id": pid,
                "title": str(subject)[:80] or sha[:10],
                "allow_no_change": True,
                "depends_on": [f"c{n - 1}"] if n > 1 else [],
            }
        )
        records.append(ReplayRecord(phase=pid, text=_ndjson(commit_ops(repo, sha)), usage=Usage()))
    return base, {"goal": f"replay {len(shas)} commits", "phases": phases}, records, subjects


def _clone(source: Path, target: Path, base: str) -> None:
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(target)], check=True)
    repo = git.Repo(target)
    repo.git.checkout("-q", "-B", "main", base)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Bench")
        cw.set_value("user", "email", "bench@example.invalid")


def run_gates_bench(
    source: Path,
    workdir: Path,
    config: GatesBenchConfig,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[RunCost]:
    base, spec_data, records, subjects = replay_material(source, config.commits)
    spec = parse_spec(spec_data)
    gates = GateSettings(
        test_command=config.test_command,
        plugin_autoload=config.plugin_autoload,
        test_timeout_s=config.test_timeout_s,
        baseline_cache=str(workdir / "baseline-cache"),
        setup_command=config.setup_command,
        test_env_dir=str(workdir / "test-env"),
    )
    runs = []
    for label in ("cold", "warm"):
        clone = workdir / f"repo-{label}"
        _clone(source, clone, base)
        ws = GitWorkspace(clone)
        started = time.monotonic()
        finalizer = build_finalizer(ws, gates, progress)
        setup_s = time.monotonic() - started
        telemetry = RunTelemetry()
        executor = build_executor(
            spec,
            ws,
            ReplayModelClient(list(records)),
            LocalForge(workdir / f"out-{label}"),
            RunSettings(run_id="bench", repair_rounds=0).executor_config(),
            finalizer=finalizer,
            telemetry=telemetry,
            progress=progress,
        )
        state = executor.run()
        rows = {p.phase_id: p for p in telemetry.phases}
        phases = [
            PhaseCost(
                phase=p.id,
                subject=subjects[n],
                status=p.status.value,
                suite_runs=rows[p.id].test_runs if p.id in rows else 0,
                tests=rows[p.id].tests_executed if p.id in rows else 0,
                test_s=rows[p.id].test_wall_s if p.id in rows else 0.0,
                baseline=rows[p.id].baseline_cache if p.id in rows else "",
            )
            for n, p in enumerate(state.phases)
        ]
        runs.append(RunCost(label=label, setup_s=setup_s, phases=phases))
    return runs


def render_gates_table(runs: list[RunCost], source: Path, config: GatesBenchConfig) -> str:
    lines = [
        f"bench gates: the last {config.commits} commit(s) of {source} replayed as phases "
        f"(test command {config.test_command!r}"
        + (f", setup {config.setup_command!r})" if config.setup_command else ")"),
        "",
        "| run | phase | commit | status | suite runs | tests | test s | baseline |",
        "|---|---|---|---|--:|--:|--:|---|",
    ]
    for run in runs:
        for p in run.phases:
            lines.append(
                f"| {run.label} | {p.phase} | {p.subject[:50]} | {p.status} | {p.suite_runs} "
                f"| {p.tests} | {p.test_s:.1f} | {p.baseline} |"
            )
    lines.append("")
    for run in runs:
        n = len(run.phases) or 1
        total = sum(p.suite_runs for p in run.phases)
        seconds = sum(p.test_s for p in run.phases)
        lines.append(
            f"{run.label}: {total} suite run(s) for {len(run.phases)} phase(s) "
            f"({total / n:.2f} per phase), {seconds:.1f} s of tests, "
            f"set-up {run.setup_s:.1f} s"
        )
    return "\n".join(lines)
