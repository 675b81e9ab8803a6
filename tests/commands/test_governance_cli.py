"""Governance end to end on real git repos (bare origin) with the replay model, the local forge and
the real CLI: a phase touching a protected path is held with nothing written, independent phases go
on, dependents wait; `autopack approve` / `deny` decide through the shared code path, `autopack
resume` applies exactly the held ops; moved heads, tampered ops and workflow paths are refused;
auto-approval; the audit log records every decision."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from autopack.adapters.clock import SystemClock
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.governance_store import LocalGovernanceStore
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord, dump_transcript
from autopack.app.compose import build_executor
from autopack.app.executor import Executor
from autopack.app.governor import apply_decision
from autopack.cli import main
from autopack.core.build import ExecutorConfig
from autopack.core.gates.decision import GateResult, GateStatus, PhaseDecision
from autopack.core.governance.requests import Decision, MemoryAuditLog
from autopack.core.spec import parse_spec
from autopack.core.state import RunState
from autopack.core.usage import Usage

ENV_TEXT = "# Settings\nAPI_URL=https://api.example.invalid\nTIMEOUT=30\n"
SPEC: dict[str, Any] = {
    "goal": "Configurable client",
    "phases": [
        {"id": "config", "title": "Settings"},
        {"id": "uses", "title": "Use settings", "depends_on": ["config"]},
        {"id": "leaf", "title": "Leaf", "depends_on": ["uses"]},
        {"id": "indep", "title": "Independent"},
    ],
}
OPS: dict[str, list[dict[str, Any]]] = {
    "config": [
        {"op": "write", "path": ".env.example", "content": ENV_TEXT},
        {"op": "write", "path": "src/settings.py", "content": "TIMEOUT = 30\n"},
        {"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'hello'"},
        {"op": "done", "summary": "Documented the settings in .env.example."},
    ],
    "uses": [
        {"op": "write", "path": "src/use.py", "content": "from settings import TIMEOUT\n"},
        {"op": "done", "summary": "uses"},
    ],
    "leaf": [{"op": "write", "path": "src/leaf.py", "content": "LEAF = 1\n"}, {"op": "done"}],
    "indep": [{"op": "write", "path": "src/other.py", "content": "OTHER = 1\n"}, {"op": "done"}],
}


def ndjson(ops: list[dict[str, Any]]) -> str:
    return "".join(
        json.dumps({"op": o["op"], "id": n, **{k: v for k, v in o.items() if k != "op"}}) + "\n"
        for n, o in enumerate(ops, 1)
    )


class World:
    def __init__(self, repo: Path, tmp: Path, spec: dict[str, Any], ops: dict[str, Any]) -> None:
        self.repo, self.out = repo, tmp / "out"
        self.spec_path = tmp / "spec.yaml"
        self.spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        self.transcript = tmp / "transcript.jsonl"
        records = [ReplayRecord(text=ndjson(o), phase=p) for p, o in ops.items()]
        self.transcript.write_text(dump_transcript(records), encoding="utf-8")
        self.git = git.Repo(repo)

    def cli(self, *args: str) -> int:
        common = ["--out", str(self.out), "--repo", str(self.repo)]
        if args[0] in ("run", "resume"):
            common.append("--no-tests")  # the gates have their own tests; keep these fast
        if args[0] == "run":
            extra = [
                "--spec",
                str(self.spec_path),
                "--run-id",
                "g1",
                "--replay",
                str(self.transcript),
            ]
            return main([*args, *common, *extra])
        if args[0] == "resume":
            return main([*args, *common, "--replay", str(self.transcript)])
        return main([*args, *common])

    def state(self) -> RunState:
        return LocalGovernanceStore(self.out).load_state()

    def statuses(self) -> dict[str, tuple[str, str]]:
        return {p.id: (p.status.value, p.reason) for p in self.state().phases}

    def audit(self) -> list[tuple[str, str]]:
        return [(e.action, e.actor) for e in LocalGovernanceStore(self.out).entries()]

    def subjects(self) -> list[str]:
        return self.git.git.log("--format=%s", "autopack/g1", "^main").splitlines()

    def commit(self, path: str, text: str, message: str) -> None:
        (self.repo / path).parent.mkdir(parents=True, exist_ok=True)
        (self.repo / path).write_text(text, encoding="utf-8")
        self.git.git.add(path)
        self.git.git.commit("-q", "-m", message)


@pytest.fixture
def world(git_repo: Path, tmp_path: Path) -> World:
    return World(git_repo, tmp_path, SPEC, OPS)


def held_request_id(w: World) -> str:
    [req] = w.state().requests
    return req.id


def test_held_phase_writes_nothing_until_approved_then_resume_commits(world: World) -> None:
    w = world
    assert w.cli("run") == 1  # not every phase committed yet
    # Nothing of the held phase is on disk or in git; the independent phase committed.
    assert not (w.repo / ".env.example").exists()
    assert not (w.repo / "src/settings.py").exists()
    assert (w.repo / "src/app.py").read_text() == "def hello():\n    return 'hi'\n"
    assert not w.git.is_dirty(untracked_files=True)
    assert w.subjects() == ["autopack(indep): Independent"]
    assert w.statuses() == {
        "config": ("awaiting_approval", "held for approval: .env.example"),
        "uses": ("blocked", "waiting for approval of config"),
        "leaf": ("blocked", "waiting for approval of config"),
        "indep": ("committed", ""),
    }
    [req] = w.state().requests
    head = w.git.commit("autopack/g1").hexsha
    assert (req.state.value, req.head_sha, req.paths, req.risk.value) == (
        "pending", head, [".env.example"], "high",
    )  # fmt: skip
    assert req.justification == "Documented the settings in .env.example."
    comment = (w.out / "comments" / f"{req.id}.md").read_text()
    assert f"<!-- autopack:governance id={req.id} head={head}" in comment
    assert "`autopack:approve`" in comment and f"autopack approve {req.id} --by NAME" in comment
    assert "+API_URL=https://api.example.invalid" in comment
    assert w.audit() == [("requested", "autopack"), ("posted", "autopack")]

    assert w.cli("approve", req.id, "--by", "alice") == 0
    assert not (w.repo / ".env.example").exists()  # approval alone writes nothing
    assert w.state().requests[0].state.value == "approved"
    assert "**approved** by alice" in (w.out / "comments" / f"{req.id}.md").read_text()
    # A second identical approval changes nothing, not even the audit log.
    before = (w.out / "state.json").read_text()
    assert w.cli("approve", req.id, "--by", "alice") == 0
    assert (w.out / "state.json").read_text() == before
    assert w.audit()[-1] == ("approved", "alice") and len(w.audit()) == 3

    assert w.cli("resume") == 0
    assert (w.repo / ".env.example").read_text() == ENV_TEXT
    assert (w.repo / "src/app.py").read_text() == "def hello():\n    return 'hello'\n"
    assert w.subjects() == [
        "autopack(leaf): Leaf",
        "autopack(uses): Use settings",
        "autopack(config): Settings",
        "autopack(indep): Independent",
    ]
    assert {k: v[0] for k, v in w.statuses().items()} == dict.fromkeys(
        ["config", "uses", "leaf", "indep"], "committed"
    )
    assert not w.git.is_dirty(untracked_files=True)
    # Resuming again is a no-op: everything is committed.
    assert w.cli("resume") == 0
    assert len(w.subjects()) == 4


def test_deny_skips_dependents_and_writes_nothing(world: World, capsys: Any) -> None:
    w = world
    w.cli("run")
    rid = held_request_id(w)
    assert w.cli("deny", rid, "--by", "bob") == 0
    assert w.statuses()["config"] == ("denied", "denied by bob")
    assert w.statuses()["uses"] == ("blocked", "skipped: config was denied by bob")
    assert w.cli("approve", rid, "--by", "alice") == 1
    assert "already denied by bob" in capsys.readouterr().err
    assert w.cli("resume") == 1
    assert w.statuses() == {
        "config": ("denied", "denied by bob"),
        "uses": ("blocked", "skipped: config was denied by bob"),
        "leaf": ("blocked", "skipped: config was denied by bob"),
        "indep": ("committed", ""),
    }
    assert not (w.repo / ".env.example").exists()
    assert w.subjects() == ["autopack(indep): Independent"]
    assert w.audit() == [
        ("requested", "autopack"),
        ("posted", "autopack"),
        ("denied", "bob"),
        ("refused", "alice"),
    ]


def test_approval_after_the_head_moved_is_refused(world: World, capsys: Any) -> None:
    w = world
    w.cli("run")
    rid = held_request_id(w)
    # Someone rewrites the branch (an amended commit): the head moves.
    w.git.git.commit("--amend", "--no-edit", "-q", env={"GIT_COMMITTER_DATE": "2001-01-01T00:00"})
    assert w.cli("approve", rid, "--by", "alice") == 1
    err = capsys.readouterr().err
    assert "a fresh request is needed" in err and "branch head is" in err
    assert w.state().requests[0].state.value == "pending"
    assert w.audit()[-1] == ("refused", "alice")
    # A resume re-posts the request at the new head; then the approval counts.
    w.cli("resume")
    req = w.state().requests[0]
    assert req.head_sha == w.git.commit("autopack/g1").hexsha
    assert w.audit()[-1] == ("restamped", "autopack")
    assert w.cli("approve", rid, "--by", "alice") == 0


def test_tampered_held_ops_are_refused(world: World, capsys: Any) -> None:
    w = world
    w.cli("run")
    state_file = w.out / "state.json"
    data = json.loads(state_file.read_text())
    data["requests"][0]["ops"][0]["content"] = "API_URL=https://evil.invalid\n"
    state_file.write_text(json.dumps(data))
    rid = data["requests"][0]["id"]
    assert w.cli("approve", rid, "--by", "alice") == 1
    assert "held ops changed" in capsys.readouterr().err
    assert w.audit()[-1] == ("refused", "alice")
    assert not (w.repo / ".env.example").exists()


def test_tampering_after_approval_fails_the_phase_on_resume(world: World) -> None:
    w = world
    w.cli("run")
    w.cli("approve", held_request_id(w), "--by", "alice")
    state_file = w.out / "state.json"
    data = json.loads(state_file.read_text())
    data["requests"][0]["ops"][1]["content"] = "import os\n"
    state_file.write_text(json.dumps(data))
    assert w.cli("resume") == 1
    status, reason = w.statuses()["config"]
    assert status == "failed" and "held ops changed" in reason
    assert not (w.repo / "src/settings.py").exists()
    assert w.audit()[-1] == ("refused", "autopack")


WF_OPS = {
    "ci": [
        {"op": "write", "path": ".github/workflows/ci.yml", "content": "on: push\n"},
        {"op": "done", "summary": "CI"},
    ]
}
WF_SPEC = {"goal": "CI", "phases": [{"id": "ci", "title": "Add CI"}]}
PERMISSIVE = (
    "protected_paths: ['.github/workflows/**']\n"
    "risk_rules: [{paths: ['.github/workflows/**'], level: low}]\n"
    "auto_approve: {enabled: true}\n"
)


def test_workflow_paths_are_never_approvable_even_when_configured(
    git_repo: Path, tmp_path: Path, capsys: Any
) -> None:
    w = World(git_repo, tmp_path, WF_SPEC, WF_OPS)
    w.commit(".autopack.yml", PERMISSIVE, "permissive governance config")
    assert w.cli("run") == 1
    [req] = w.state().requests
    assert (req.state.value, req.risk.value) == ("pending", "critical")  # not auto-approved
    assert "can never be approved" in (w.out / "comments" / f"{req.id}.md").read_text()
    assert w.cli("approve", req.id, "--by", "admin") == 1
    assert "can never be approved" in capsys.readouterr().err
    assert not (w.repo / ".github").exists()
    assert w.cli("deny", req.id, "--by", "admin") == 0


def test_auto_approval_commits_small_docs_changes_in_the_same_run(
    git_repo: Path, tmp_path: Path
) -> None:
    spec = {"goal": "Docs", "phases": [{"id": "docs", "title": "Docs"}]}
    ops = {
        "docs": [{"op": "write", "path": "docs/guide.md", "content": "# Guide\n"}, {"op": "done"}]
    }
    w = World(git_repo, tmp_path, spec, ops)
    w.commit(
        ".autopack.yml", "protected_paths: ['docs/**']\nauto_approve: {enabled: true}\n", "cfg"
    )
    assert w.cli("run") == 0
    [req] = w.state().requests
    assert (req.state.value, req.decided_by, req.risk.value) == (
        "approved", "autopack[auto-approve]", "low",
    )  # fmt: skip
    assert w.subjects() == ["autopack(docs): Docs"]
    assert (w.repo / "docs/guide.md").read_text() == "# Guide\n"
    assert w.audit() == [("requested", "autopack"), ("approved", "autopack[auto-approve]")]


def test_auto_approval_refuses_large_docs_changes(git_repo: Path, tmp_path: Path) -> None:
    spec = {"goal": "Docs", "phases": [{"id": "docs", "title": "Docs"}]}
    big = "".join(f"line {n}\n" for n in range(101))
    ops = {"docs": [{"op": "write", "path": "docs/guide.md", "content": big}, {"op": "done"}]}
    w = World(git_repo, tmp_path, spec, ops)
    w.commit(
        ".autopack.yml", "protected_paths: ['docs/**']\nauto_approve: {enabled: true}\n", "cfg"
    )
    assert w.cli("run") == 1
    assert w.statuses()["docs"][0] == "awaiting_approval"
    assert not (w.repo / "docs/guide.md").exists()


def test_bad_config_and_missing_state_are_clear_errors(
    git_repo: Path, tmp_path: Path, capsys: Any
) -> None:
    w = World(git_repo, tmp_path, SPEC, OPS)
    assert w.cli("approve", "abcdef", "--by", "x") == 1
    assert "no run state" in capsys.readouterr().err
    w.commit(".autopack.yml", "auto_approve: {enabled: yes, max_changed_lines: 1000}\n", "cfg")
    assert w.cli("run") == 1
    assert "auto_approve.max_changed_lines" in capsys.readouterr().err


class BlockUntil:
    """A finalizer (the real Finalizer protocol) that blocks until `path` exists in the changes."""

    def __init__(self, path: str) -> None:
        self.path = path

    def prepare(self) -> None:
        pass

    def committed(self, sha: str) -> None:
        pass

    def finalize(self, phase: Any, changes: Any) -> PhaseDecision:
        ok = changes.current(self.path) is not None
        status = GateStatus.passed if ok else GateStatus.block
        return PhaseDecision(gates=(GateResult(gate="needs", status=status, reason="missing"),))


def test_a_repair_round_reaching_a_protected_path_holds_the_phase_unwritten(
    git_repo: Path, tmp_path: Path
) -> None:
    spec = parse_spec({"goal": "g", "phases": [{"id": "fix", "title": "Fix"}]})
    build_ops = [{"op": "write", "path": "src/a.py", "content": "A = 1\n"}, {"op": "done"}]
    repair_ops = [
        {"op": "write", "path": ".env.example", "content": "A=1\n"},
        {"op": "write", "path": "src/needed.py", "content": "N = 1\n"},
        {"op": "done", "summary": "added what the gate wanted"},
    ]
    repair_text = "".join(
        json.dumps({"op": o["op"], "id": n, **{k: v for k, v in o.items() if k != "op"}}) + "\n"
        for n, o in enumerate(repair_ops, 3)
    )
    records = [
        ReplayRecord(text=ndjson(build_ops), phase="fix", purpose="build"),
        ReplayRecord(text=repair_text, phase="fix", purpose="repair"),
    ]
    out, audit = tmp_path / "out", MemoryAuditLog()

    def executor(model: ReplayModelClient) -> Executor:
        return build_executor(
            spec,
            GitWorkspace(git_repo),
            model,
            LocalForge(out),
            ExecutorConfig(run_id="rr"),
            finalizer=BlockUntil("src/needed.py"),
            audit=audit,
        )

    state = executor(ReplayModelClient(records)).run()
    record = state.phase("fix")
    assert record.status.value == "awaiting_approval"
    [req] = state.requests
    assert req.paths == [".env.example"] and len(req.ops) == 5
    assert req.justification == "added what the gate wanted"
    repo = git.Repo(git_repo)
    assert not repo.is_dirty(untracked_files=True)  # src/a.py, written before the repair, undone
    assert not (git_repo / "src/a.py").exists() and not (git_repo / ".env.example").exists()
    head = repo.commit("autopack/rr").hexsha
    apply_decision(
        state, req.id, Decision.approve, "alice", head,
        clock=SystemClock(), audit=audit, forge=LocalForge(out), ttl=timedelta(days=1),
    )  # fmt: skip
    resumed = executor(ReplayModelClient([])).run(state)
    assert resumed.phase("fix").status.value == "committed"
    assert (git_repo / ".env.example").read_text() == "A=1\n"
    assert (git_repo / "src/a.py").read_text() == "A = 1\n"
    assert [e.action for e in audit.entries()] == ["requested", "posted", "approved"]


def test_an_incomplete_build_on_a_protected_path_fails_without_writing_it(
    git_repo: Path, tmp_path: Path
) -> None:
    spec = {"goal": "CI", "phases": [{"id": "ci", "title": "CI"}]}
    ops = {"ci": [{"op": "write", "path": ".github/workflows/ci.yml", "content": "on: push\n"}]}
    w = World(git_repo, tmp_path, spec, ops)  # no 'done': the build is incomplete
    w.transcript.write_text(
        dump_transcript([ReplayRecord(text=ndjson(ops["ci"]), phase="ci")] * 2), encoding="utf-8"
    )
    assert w.cli("run") == 1
    status, reason = w.statuses()["ci"]
    assert status == "failed" and reason.startswith("build incomplete")
    assert not (w.repo / ".github").exists()
    patch = (w.out / "patches" / "ci.patch").read_text()
    assert "+++ b/.github/workflows/ci.yml" in patch and "+on: push" in patch


def test_a_held_run_says_what_to_do_and_resume_keeps_the_runs_telemetry(
    world: World, capsys: Any
) -> None:
    """`run` ends a held phase by naming the request and the approve/deny/resume commands; the
    held op is printed as held (nothing written), not applied; after `approve`, `resume` adds to
    telemetry.json instead of starting it again from zero; phases committed before the approval
    keep their records (ops), not an empty one."""
    w = world
    assert w.cli("run") == 1
    printed = capsys.readouterr()
    req = held_request_id(w)
    assert f"request {req} (config): .env.example [risk high]" in printed.out
    assert f"autopack approve {req} --by NAME --out {w.out} --repo {w.repo}" in printed.out
    assert f"autopack resume --out {w.out} --repo {w.repo}" in printed.out
    assert "(write .env.example) held: protected path, awaits approval" in printed.err
    assert "(write .env.example) applied" not in printed.err
    before = json.loads((w.out / "telemetry.json").read_text())["totals"]["requests"]
    assert before >= 2

    assert w.cli("approve", req, "--by", "alice") == 0
    assert w.cli("resume") == 0
    after = json.loads((w.out / "telemetry.json").read_text())["totals"]["requests"]
    assert after > before  # the resume's requests are added to the run's
    indep = w.state().phase("indep")
    assert indep.status.value == "committed" and indep.ops_applied == 2  # its ops are kept


def test_resume_that_rebuilds_a_failed_phase_keeps_the_first_attempts_telemetry(
    git_repo: Path, tmp_path: Path
) -> None:
    """`resume` loads telemetry.json "so a resume adds to it" (the run's requests so far stay
    counted). A phase that failed in the first run is built again by the resume; today
    `RunTelemetry.add` replaces the phase's row, so the first attempt's requests and cost vanish
    from the run's totals (and from what the cost budget counts as spent)."""
    spec = {"goal": "g", "phases": [{"id": "a", "title": "A"}]}
    w = World(git_repo, tmp_path, spec, {})
    paid = Usage(input_tokens=1000, output_tokens=1000)
    no_done = ndjson([{"op": "write", "path": "src/a.py", "content": "A = 1\n"}])
    w.transcript.write_text(  # no `done`, twice (the build and its repair turn): `a` fails
        dump_transcript([ReplayRecord(text=no_done, phase="a", usage=paid)] * 2), encoding="utf-8"
    )
    assert w.cli("run") == 1
    assert w.statuses()["a"][0] == "failed"
    first = json.loads((w.out / "telemetry.json").read_text())["totals"]
    assert first["requests"] == 2

    whole = ndjson([{"op": "write", "path": "src/a.py", "content": "A = 1\n"}, {"op": "done"}])
    w.transcript.write_text(
        dump_transcript([ReplayRecord(text=whole, phase="a", usage=paid)]), encoding="utf-8"
    )
    assert w.cli("resume") == 0
    assert w.statuses()["a"][0] == "committed"
    after = json.loads((w.out / "telemetry.json").read_text())["totals"]
    assert after["requests"] == 3, "the failed attempt's requests were dropped from the run"
    assert after["cost_usd"] == pytest.approx(first["cost_usd"] * 3 / 2)
