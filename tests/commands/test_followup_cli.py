"""`autopack followup` end to end: a real git repo with a bare origin, the real CLI, the local
Messages API server through the anthropic SDK (and the replay model): one follow-up phase on the
run's branch, its prompt with the diff and the marked line, idempotent, gated, held like any phase."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from autopack.adapters.governance_store import LocalGovernanceStore
from autopack.adapters.replay_model import ReplayRecord, dump_transcript
from autopack.cli import main
from support.messages_server import MessagesServer, Reply

SPEC = {"goal": "Greet", "phases": [{"id": "docs", "title": "Docs"}]}
DOCS = [{"op": "write", "path": "docs/greet.md", "content": "# Greet\n"}, {"op": "done"}]
RENAME = [
    {"op": "edit", "path": "src/app.py", "old": "def hello():", "new": "def greet():"},
    {"op": "done", "summary": "Renamed hello to greet."},
]
ENV = [{"op": "write", "path": ".env.example", "content": "GREETING=hi\n"}, {"op": "done"}]


def ndjson(ops: list[dict[str, Any]], first: int = 1) -> str:
    return "".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(ops, first))


class Local:
    def __init__(self, repo: Path, tmp: Path, server: MessagesServer) -> None:
        self.repo, self.out, self.tmp, self.server = repo, tmp / "out", tmp, server
        self.git = git.Repo(repo)
        spec = tmp / "spec.yaml"
        spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
        replay = tmp / "run.jsonl"
        replay.write_text(dump_transcript([ReplayRecord(text=ndjson(DOCS))]), encoding="utf-8")
        common = ["--out", str(self.out), "--repo", str(repo), "--no-tests"]
        assert (
            main(["run", "--spec", str(spec), "--run-id", "r1", "--replay", str(replay), *common])
            == 0
        )

    def followup(self, *args: str) -> int:
        return main(
            ["followup", "--out", str(self.out), "--repo", str(self.repo), "--no-tests", *args]
        )

    def subjects(self) -> list[str]:
        return self.git.git.log("--format=%s", "autopack/r1", "^main").splitlines()


@pytest.fixture
def local(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Local]:
    with MessagesServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-local-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        yield Local(git_repo, tmp_path, server)


def test_a_local_follow_up_commits_one_phase_with_the_line_marked(
    local: Local, capsys: pytest.CaptureFixture[str]
) -> None:
    local.server.add(Reply(text=ndjson(RENAME)))
    code = local.followup(
        "--instruction", "rename hello to greet", "--path", "src/app.py", "--line", "1",
        "--by", "ana",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    [subject, first] = local.subjects()
    assert subject.startswith("autopack(followup-") and subject.endswith("Follow-up asked by ana")
    assert first == "autopack(docs): Docs"
    assert (local.repo / "src/app.py").read_text(encoding="utf-8").startswith("def greet():")
    [request] = local.server.message_requests
    prompt = request.message_text(0)
    assert "<untrusted-issue-text>\nrename hello to greet\n</untrusted-issue-text>" in prompt
    assert '<file path="src/app.py" marked-line="1">\n>>1 | def hello():\n  2 |' in prompt
    assert "<pr-diff>\ndiff --git a/docs/greet.md b/docs/greet.md" in prompt
    state = LocalGovernanceStore(local.out).load_state()
    assert [p.status.value for p in state.phases] == ["committed", "committed"]
    saved = json.loads((local.out / "spec.json").read_text(encoding="utf-8"))
    assert saved["phases"][-1]["id"] == state.phases[-1].id  # a resume knows the phase
    telemetry = json.loads((local.out / "telemetry.json").read_text(encoding="utf-8"))
    assert [p["phase_id"] for p in telemetry["phases"]] == ["docs", state.phases[-1].id]

    # The same follow-up again: already committed, no model call, no commit.
    assert local.followup(
        "--instruction", "rename hello to greet", "--path", "src/app.py", "--line", "1"
    ) == 0  # fmt: skip
    assert len(local.subjects()) == 2 and len(local.server.message_requests) == 1


def test_a_local_follow_up_on_a_protected_path_is_held_then_approved(
    local: Local, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replay = tmp_path / "env.jsonl"
    replay.write_text(dump_transcript([ReplayRecord(text=ndjson(ENV))]), encoding="utf-8")
    capsys.readouterr()
    code = local.followup("--instruction", "add an example env file", "--replay", str(replay))
    out = capsys.readouterr().out
    assert code == 1 and "approve: autopack approve " in out and "autopack resume" in out
    assert not (local.repo / ".env.example").exists()
    request_id = out.split("approve: autopack approve ")[1].split()[0]
    common = ["--out", str(local.out), "--repo", str(local.repo)]
    assert main(["approve", request_id, "--by", "ana", *common]) == 0
    assert main(["resume", *common, "--no-tests"]) == 0
    assert local.subjects()[0].startswith("autopack(followup-")
    assert (local.repo / ".env.example").read_text(encoding="utf-8") == "GREETING=hi\n"
    assert not local.server.message_requests  # replayed, then re-applied: no API call


def test_a_local_follow_up_that_breaks_a_test_is_not_committed(
    local: Local, tmp_path: Path
) -> None:
    tests = local.repo / "tests"
    tests.mkdir()
    (tests / "test_app.py").write_text(
        "from src.app import hello\n\n\ndef test_hello():\n    assert hello() == 'hi'\n",
        encoding="utf-8",
    )
    local.git.git.add("-A")
    local.git.git.commit("-q", "-m", "a test")
    broken = [{"op": "edit", "path": "src/app.py", "old": "'hi'", "new": "'yo'"}, {"op": "done"}]
    local.server.add(Reply(text=ndjson(broken)), Reply(text=ndjson([{"op": "done"}], 3)))
    before = local.subjects()
    code = main(
        ["followup", "--out", str(local.out), "--repo", str(local.repo), "--instruction", "say yo"]
    )
    assert code == 1
    assert local.subjects() == before
    state = LocalGovernanceStore(local.out).load_state()
    assert state.phases[-1].status.value == "failed"
    assert "tests/test_app.py::test_hello" in state.phases[-1].reason


def test_followup_argument_errors(local: Local, capsys: pytest.CaptureFixture[str]) -> None:
    assert local.followup("--instruction", "x", "--line", "3") == 1
    assert "--line needs --path" in capsys.readouterr().err
    assert local.followup("--instruction", "x", "--path", "../etc/passwd") == 1
    assert "--path" in capsys.readouterr().err
    assert local.followup("--instruction", "\u200b ") == 1
    assert "--instruction is empty" in capsys.readouterr().err
