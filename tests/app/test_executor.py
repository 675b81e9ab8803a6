"""The executor on real git repos (bare origin) with the replay model and the local forge: one commit
per phase, re-runs, dirty trees, failed phases, repair turns, continuation after max_tokens, push."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import git
import pytest

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.compose import build_executor
from autopack.core.build import BuildSettings, ExecutorConfig
from autopack.core.spec import RunSpec, parse_spec
from autopack.core.state import PhaseStatus, RunState
from autopack.core.usage import Usage
from autopack.errors import WorkspaceError

SPEC = {
    "goal": "Greet better",
    "phases": [
        {"id": "a", "title": "Add a", "deliverables": [{"path": "src/app.py"}]},
        {"id": "b", "title": "Add b on a", "depends_on": ["a"]},
        {"id": "c", "title": "Docs"},
    ],
}
A_OPS = [
    {"op": "write", "path": "src/a.py", "content": "A = 'a'\n"},
    {"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'hello'"},
    {"op": "done", "summary": "a"},
]
B_OPS = [
    {"op": "write", "path": "src/b.py", "content": "from a import A\nB = A * 2\n"},
    {"op": "done", "summary": "b"},
]
C_OPS = [
    {"op": "write", "path": "docs/c.md", "content": "# Docs\n"},
    {"op": "done", "summary": "c"},
]


def ndjson(ops: list[dict[str, Any]], first_id: int = 1) -> str:
    return "".join(
        json.dumps({"op": o["op"], "id": n, **{k: v for k, v in o.items() if k != "op"}}) + "\n"
        for n, o in enumerate(ops, first_id)
    )


def rec(phase: str, text: str, stop: str = "end_turn", chunk: int = 7) -> ReplayRecord:
    return ReplayRecord.model_validate(
        {
            "phase": phase,
            "text": text,
            "stop_reason": stop,
            "usage": {"input_tokens": 100, "output_tokens": max(1, len(text) // 4)},
            "chunk_size": chunk,
        }
    )


GOOD = [rec("a", ndjson(A_OPS)), rec("b", ndjson(B_OPS)), rec("c", ndjson(C_OPS))]


class Run:
    def __init__(self, repo: Path, out: Path, spec: RunSpec, records: list[ReplayRecord]) -> None:
        self.repo, self.out, self.spec = repo, out, spec
        self.client = ReplayModelClient(records)
        self.lines: list[str] = []

    def __call__(self, run_id: str = "t1", **config: Any) -> RunState:
        executor = build_executor(
            self.spec,
            GitWorkspace(self.repo),
            self.client,
            LocalForge(self.out),
            ExecutorConfig(run_id=run_id, **config),
            progress=self.lines.append,
        )
        return executor.run()


def run(
    repo: Path, tmp_path: Path, records: list[ReplayRecord], spec: dict[str, Any] = SPEC, **cfg: Any
) -> tuple[RunState, Run]:
    r = Run(repo, tmp_path / "out", parse_spec(spec), records)
    return r(**cfg), r


def subjects(repo: Path, branch: str = "autopack/t1") -> list[str]:
    return git.Repo(repo).git.log("--format=%s", branch, "^main").splitlines()


def clean(repo: Path) -> bool:
    return git.Repo(repo).git.status("--porcelain", "--untracked-files=all") == ""


def statuses(state: RunState) -> dict[str, str]:
    return {p.id: p.status.value for p in state.phases}


# -- happy path, re-runs ---------------------------------------------------------------------
def test_one_commit_per_phase_with_trailers(git_repo: Path, tmp_path: Path) -> None:
    state, r = run(git_repo, tmp_path, GOOD)
    assert state.succeeded
    repo = git.Repo(git_repo)
    assert repo.active_branch.name == "autopack/t1"
    assert subjects(git_repo) == [
        "autopack(c): Docs",
        "autopack(b): Add b on a",
        "autopack(a): Add a",
    ]
    a_commit = repo.commit(state.phase("a").commit_sha)
    assert "Autopack-Phase: a" in a_commit.message
    assert "Autopack-Ops: 3" in a_commit.message  # write, edit, done
    assert sorted(a_commit.stats.files) == ["src/a.py", "src/app.py"]
    assert (git_repo / "src/app.py").read_text(
        encoding="utf-8"
    ) == "def hello():\n    return 'hello'\n"
    assert clean(git_repo)
    assert r.client.unused == 0
    # Progress: a line per phase step, and one per op.
    assert "[1/3] a: building (Add a)" in r.lines
    assert any(line.startswith("[1/3] a: committed ") for line in r.lines)
    assert "    + op 2 (edit src/app.py) applied" in r.lines
    # The local forge got the PR, a check run per phase, the summary and the state.
    out = tmp_path / "out"
    assert json.loads((out / "pr.json").read_text(encoding="utf-8"))["head"] == "autopack/t1"
    check = json.loads((out / "checks" / "a.json").read_text(encoding="utf-8"))
    assert check["conclusion"] == "success" and check["head_sha"]
    assert "committed" in (out / "comments" / "summary.md").read_text(encoding="utf-8")
    saved = RunState.model_validate_json((out / "state.json").read_text(encoding="utf-8"))
    assert statuses(saved) == {"a": "committed", "b": "committed", "c": "committed"}


def test_rerun_skips_committed_phases_and_never_duplicates(git_repo: Path, tmp_path: Path) -> None:
    state, r = run(git_repo, tmp_path, GOOD)
    assert state.succeeded
    head = git.Repo(git_repo).head.commit.hexsha
    git.Repo(git_repo).heads["main"].checkout()

    again = Run(git_repo, tmp_path / "out2", r.spec, [])  # no responses: any request would fail
    second = again()
    assert second.succeeded
    assert all(p.resumed for p in second.phases)
    assert len(subjects(git_repo)) == 3
    assert git.Repo(git_repo).head.commit.hexsha == head
    assert again.client.requests == []
    assert (
        "[2/3] b: already committed in " + state.phase("b").commit_sha[:10] + ", skipped"
        in again.lines
    )


def test_rerun_after_a_failure_builds_only_what_is_missing(git_repo: Path, tmp_path: Path) -> None:
    bad_b = ndjson([{"op": "write", "path": "src/b.py", "content": "x"}])  # no done
    first, _ = run(git_repo, tmp_path, [GOOD[0], rec("b", bad_b), rec("b", bad_b), GOOD[2]])
    assert statuses(first) == {"a": "committed", "b": "failed", "c": "committed"}
    second, r2 = run(git_repo, tmp_path, [GOOD[1]])
    assert second.succeeded
    assert [req.phase_id for req in r2.client.requests] == ["b"]
    assert subjects(git_repo) == [
        "autopack(b): Add b on a",
        "autopack(c): Docs",
        "autopack(a): Add a",
    ]


def test_dirty_tree_is_refused(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "src/app.py").write_text("edited by hand\n", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="has uncommitted changes"):
        run(git_repo, tmp_path, GOOD)
    assert "autopack/t1" not in git.Repo(git_repo).heads
    assert (git_repo / "src/app.py").read_text(encoding="utf-8") == "edited by hand\n"


# -- failures --------------------------------------------------------------------------------
def test_failed_phase_leaves_a_clean_tree_and_a_patch_and_blocks_dependents(
    git_repo: Path, tmp_path: Path
) -> None:
    bad = ndjson(
        [
            {"op": "write", "path": "src/a.py", "content": "A = 'a'\n"},
            {"op": "edit", "path": "src/app.py", "old": "'nope'", "new": "'x'"},
            {"op": "done", "summary": "a"},
        ]
    )
    repair = ndjson(
        [{"op": "edit", "path": "src/app.py", "old": "'still nope'", "new": "'x'"}, {"op": "done"}],
        4,
    )
    state, r = run(git_repo, tmp_path, [rec("a", bad), rec("a", repair), GOOD[2]])
    assert statuses(state) == {"a": "failed", "b": "blocked", "c": "committed"}
    a = state.phase("a")
    assert "src/app.py" in a.reason and "found 0" in a.reason
    assert state.phase("b").reason  # names the dependency
    assert "a" in state.phase("b").reason
    assert subjects(git_repo) == ["autopack(c): Docs"]
    assert clean(git_repo)
    assert not (git_repo / "src/a.py").exists()
    assert a.patch_file is not None
    patch = Path(a.patch_file).read_text(encoding="utf-8")
    assert "+++ b/src/a.py" in patch and "+A = 'a'" in patch
    assert [req.purpose for req in r.client.requests if req.phase_id == "a"] == ["build", "repair"]
    checks = tmp_path / "out" / "checks"
    assert json.loads((checks / "a.json").read_text(encoding="utf-8"))["conclusion"] == "failure"
    assert json.loads((checks / "b.json").read_text(encoding="utf-8"))["conclusion"] == "skipped"


def test_incomplete_stream_fails_the_phase(git_repo: Path, tmp_path: Path) -> None:
    no_done = ndjson([{"op": "write", "path": "src/a.py", "content": "A = 1\n"}])
    cut = no_done[:-20]  # ends inside a line, though the model said end_turn
    state, _ = run(git_repo, tmp_path, [rec("a", no_done), rec("a", cut, chunk=64), GOOD[2]])
    a = state.phase("a")
    assert a.status is PhaseStatus.failed
    assert "not valid JSON" in a.reason
    assert statuses(state)["b"] == "blocked" and statuses(state)["c"] == "committed"
    assert clean(git_repo)


def test_stream_without_done_names_the_problem(git_repo: Path, tmp_path: Path) -> None:
    no_done = ndjson([{"op": "write", "path": "src/a.py", "content": "A = 1\n"}])
    spec = {"goal": "g", "phases": [SPEC["phases"][0]]}
    state, _ = run(
        git_repo, tmp_path, [rec("a", no_done)], spec, build=BuildSettings(repair_turns=0)
    )
    assert state.phase("a").reason == "build incomplete: the stream ended without a 'done' op"
    assert clean(git_repo) and not state.succeeded


def test_repair_turn_fixes_a_rejected_op(git_repo: Path, tmp_path: Path) -> None:
    bad = ndjson(
        [
            {"op": "write", "path": "src/a.py", "content": "A = 'a'\n"},
            {"op": "edit", "path": "src/app.py", "old": "'hey'", "new": "'hello'"},
            {"op": "done"},
        ]
    )
    fix = ndjson(
        [{"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'hello'"}, {"op": "done"}], 4
    )
    spec = {"goal": "g", "phases": [SPEC["phases"][0]]}
    state, r = run(git_repo, tmp_path, [rec("a", bad), rec("a", fix)], spec)
    assert state.succeeded
    repair = r.client.requests[1]
    assert repair.purpose == "repair"
    assert "found 0" in repair.messages[-1].content
    assert "Continue from operation id 4" in repair.messages[-1].content
    assert (git_repo / "src/app.py").read_text(encoding="utf-8").endswith("'hello'\n")


def test_response_without_a_final_newline_is_complete(git_repo: Path, tmp_path: Path) -> None:
    spec = {"goal": "g", "phases": [SPEC["phases"][2]]}
    state, r = run(git_repo, tmp_path, [rec("c", ndjson(C_OPS).rstrip("\n"))], spec)
    assert state.succeeded
    assert len(r.client.requests) == 1


# -- continuation ----------------------------------------------------------------------------
BIG_OPS = [
    {
        "op": "write",
        "path": "pkg/big.py",
        "content": "".join(f"V{i} = '{i}é中'\n" for i in range(40)),
    },
    {"op": "append", "path": "pkg/big.py", "content": "".join(f"W{i} = {i}\n" for i in range(40))},
    {"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'hi 😀'"},
    {"op": "write", "path": "pkg/__init__.py", "content": "from pkg.big import V1\n"},
    {"op": "append", "path": "pkg/big.py", "content": "END = True\n"},
    {"op": "done", "summary": "big"},
]
BIG_SPEC = {"goal": "g", "phases": [{"id": "big", "title": "Big phase"}]}


def _line_starts(text: str) -> list[int]:
    return [0, *[i + 1 for i, ch in enumerate(text) if ch == "\n"][:-1]]


def test_continuation_after_max_tokens_is_byte_identical(git_repo: Path, tmp_path: Path) -> None:
    full = ndjson(BIG_OPS)
    uncut_repo = tmp_path / "uncut"
    shutil.copytree(git_repo, uncut_repo, symlinks=True)
    uncut, _ = run(uncut_repo, tmp_path / "u", [rec("big", full)], BIG_SPEC)
    assert uncut.succeeded

    starts = _line_starts(full)
    cut1 = starts[1] + 30  # inside op 2 (the first append)
    cut2 = starts[4] + 5  # inside op 5
    # Each continuation repeats the last complete op before going on (it must be ignored).
    part1 = full[:cut1]
    part2 = full[starts[0] : cut2]  # restarts at op 1: ops 1..K are ignored, not re-applied
    part3 = full[starts[3] :]  # repeats op 4
    records = [rec("big", part1, "max_tokens"), rec("big", part2, "max_tokens"), rec("big", part3)]
    state, r = run(git_repo, tmp_path, records, BIG_SPEC)
    assert state.succeeded, state.phase("big").reason

    for path in ["pkg/big.py", "pkg/__init__.py", "src/app.py"]:
        assert (git_repo / path).read_bytes() == (uncut_repo / path).read_bytes(), path
    assert git.Repo(git_repo).head.commit.tree == git.Repo(uncut_repo).head.commit.tree
    assert [q.purpose for q in r.client.requests] == ["build", "continue", "continue"]
    second = r.client.requests[1]
    assert second.messages[-2].role == "assistant"
    assert second.messages[-2].content == full[: starts[1]].rstrip("\n")  # up to its last full line
    assert "Continue from operation id 2" in second.messages[-1].content
    third = r.client.requests[2]
    assert "Continue from operation id 5" in third.messages[-1].content
    ignored = [o for o in state.phase("big").ops if o.status == "ignored"]
    assert [o.id for o in ignored] == [1, 4]
    assert any(line.startswith("    = op 1 (write pkg/big.py) ignored") for line in r.lines)


def test_continuation_limit_fails_cleanly(git_repo: Path, tmp_path: Path) -> None:
    full = ndjson(BIG_OPS)
    starts = _line_starts(full)
    records = [
        rec("big", full[: starts[1] + 3], "max_tokens"),
        rec("big", full[starts[1] : starts[2] + 3], "max_tokens"),
    ]
    state, _ = run(git_repo, tmp_path, records, BIG_SPEC, build=BuildSettings(max_continuations=1))
    big = state.phase("big")
    assert big.status is PhaseStatus.failed
    assert "cut off after 1 continuation(s) (limit 1); last complete op id 2" in big.reason
    assert clean(git_repo) and not (git_repo / "pkg").exists()
    assert big.patch_file and "pkg/big.py" in Path(big.patch_file).read_text(encoding="utf-8")


# -- push ------------------------------------------------------------------------------------
def test_push_to_the_bare_origin(git_repo: Path, tmp_path: Path) -> None:
    _state, r = run(git_repo, tmp_path, GOOD, push=True)
    origin = git.Repo(git_repo.parent / "origin.git")
    assert origin.commit("autopack/t1").hexsha == git.Repo(git_repo).head.commit.hexsha
    pushed = origin.git.log("--format=%s", "autopack/t1", "^main").splitlines()
    assert len(pushed) == 3
    assert "pushed autopack/t1" in r.lines


def test_usage_and_requests_are_recorded(git_repo: Path, tmp_path: Path) -> None:
    state, _ = run(git_repo, tmp_path, GOOD)
    a = state.phase("a")
    assert a.requests == 1
    assert a.usage == Usage(input_tokens=100, output_tokens=len(ndjson(A_OPS)) // 4)
    assert a.ops_applied == 3 and a.changed_paths == ["src/a.py", "src/app.py"]
    assert state.cost_usd > 0


def test_a_phase_never_overwrites_an_untracked_file_of_the_user(
    git_repo: Path, tmp_path: Path
) -> None:
    (git_repo / "notes.md").write_text("my own notes\n", encoding="utf-8")
    no_done = ndjson([{"op": "write", "path": "notes.md", "content": "model text\n"}])
    spec = {"goal": "g", "phases": [SPEC["phases"][2]]}
    state, _ = run(
        git_repo, tmp_path, [rec("c", no_done)], spec, build=BuildSettings(repair_turns=0)
    )
    assert state.phase("c").status is PhaseStatus.failed
    assert (git_repo / "notes.md").read_text(encoding="utf-8") == "my own notes\n"
    [op] = state.phase("c").ops
    assert op.status == "rejected" and "'notes.md' is an untracked file of yours" in op.reason


def test_a_human_commit_on_the_branch_does_not_hide_committed_phases(
    git_repo: Path, tmp_path: Path
) -> None:
    first, _ = run(git_repo, tmp_path, GOOD)
    assert first.succeeded
    repo = git.Repo(git_repo)
    (git_repo / "human.txt").write_text("reviewer fix\n", encoding="utf-8")
    repo.git.add("human.txt")
    repo.git.commit("-q", "-m", "a human commit")
    repo.heads["main"].checkout()

    second, r = run(git_repo, tmp_path, [])  # any model request would fail
    assert second.succeeded and all(p.resumed for p in second.phases)
    assert second.base_sha == first.base_sha
    assert r.client.requests == []
    assert subjects(git_repo)[0] == "a human commit" and len(subjects(git_repo)) == 4


def test_a_deliverable_naming_a_symlink_or_fifo_fails_its_phase_not_the_run(
    git_repo: Path, tmp_path: Path
) -> None:
    import os

    os.symlink("README.md", git_repo / "alias.md")
    os.mkfifo(git_repo / "pipe")
    spec = {
        "goal": "g",
        "phases": [
            {"id": "a", "title": "Odd", "deliverables": [{"path": "alias.md"}, {"path": "pipe"}]},
            {"id": "c", "title": "Docs"},
        ],
    }
    odd = ndjson([{"op": "edit", "path": "alias.md", "old": "#", "new": "##"}, {"op": "done"}])
    state, _ = run(
        git_repo, tmp_path, [rec("a", odd), rec("c", ndjson(C_OPS))], spec,
        build=BuildSettings(repair_turns=0),
    )  # fmt: skip
    assert state.phase("a").status is PhaseStatus.failed
    assert "symlink" in state.phase("a").reason
    assert state.phase("c").status is PhaseStatus.committed


def test_another_spec_with_the_same_run_id_is_refused_not_taken_for_done(
    git_repo: Path, tmp_path: Path
) -> None:
    """Two different specs (both named spec.yaml: same run id, same phase ids) one after the
    other: the second is not reported "committed (earlier run)"; it is refused, naming the
    phase, the commit and what to do."""
    state, _ = run(git_repo, tmp_path, GOOD)
    assert state.succeeded
    git.Repo(git_repo).heads["main"].checkout()
    other = {**SPEC, "goal": "Something else entirely"}
    again = Run(git_repo, tmp_path / "out2", parse_spec(other), [])
    with pytest.raises(WorkspaceError, match=r"holds phase 'a' of a different run spec .*--run-id"):
        again()
    assert again.client.requests == []
    trailers = GitWorkspace(git_repo).commit_trailers(state.phase("a").commit_sha or "")
    assert trailers["Autopack-Spec"] and trailers["Autopack-Phase"] == "a"
