"""A phase split into batches: each batch a turn of the same conversation, through the real SDK
against the stand-in Messages API, and through the executor with a replayed model."""

from __future__ import annotations

import json
from pathlib import Path

import git

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.builder import build_phase
from autopack.app.compose import RunSettings, build_executor, phase_request
from autopack.app.phase_budget import PhaseBatches
from autopack.core.build import BuildSettings, ExecutorConfig
from autopack.core.edits.changeset import ChangeSet
from autopack.core.render.prompts import batch_note
from autopack.core.spec import parse_spec
from support.messages_server import MessagesServer, Reply
from support.ndjson import ops_text


def test_batches_are_turns_of_one_conversation_and_gaps_are_reported(git_repo: Path) -> None:
    first = ops_text(
        [
            {
                "op": "write",
                "path": "pkg/api.py",
                "content": "from pkg.models import User, Group\n",
            },
            {"op": "done", "summary": "api"},
        ]
    )
    second = [
        {"op": "write", "path": "pkg/util.py", "content": "U = 1\n"},
        {"op": "write", "path": "pkg/models.py", "content": "class User: ...\nclass Group: ...\n"},
        {"op": "done", "summary": "models"},
    ]
    second_text = "".join(
        json.dumps({**op, "id": n}) + "\n" for n, op in enumerate(second, 3)
    )  # ids go on from the first batch
    batches = PhaseBatches(
        [["pkg/api.py"], ["pkg/util.py"], ["pkg/models.py"]],
        [
            BuildSettings(max_tokens=1111),
            BuildSettings(max_tokens=2222),
            BuildSettings(max_tokens=3333),
        ],
    )
    with MessagesServer([Reply(text=first), Reply(text=second_text)]) as server:
        client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
        changes = ChangeSet(GitWorkspace(git_repo))
        outcome = build_phase(
            client,
            model="claude-sonnet-4-6",
            system="system",
            prompt="phase prompt" + batch_note(0, 3, ["pkg/api.py"]),
            changes=changes,
            settings=batches.settings(0),
            batches=batches,
        )
        client.close()
        reqs = server.message_requests
    assert outcome.complete, outcome.error
    # Batch 2 is asked for in a user turn after batch 1's answer, in the same conversation, with
    # its own max_tokens schedule.
    assert [r.body["max_tokens"] for r in reqs] == [1111, 2222]
    assert [len(r.messages) for r in reqs] == [1, 3]
    assert "batch 1 of 3" in reqs[0].message_text(0)
    asked = reqs[1].message_text(2)
    assert "batch 2 of 2" in asked  # batches 2 and 3 were merged
    # api.py imports Group and User from models.py, which batch 3 was to write: they are named,
    # and models.py moves into the next batch (the order is corrected).
    assert "`pkg/api.py` imports `User` from `pkg/models.py`" in asked
    assert "`pkg/api.py` imports `Group` from `pkg/models.py`" in asked
    assert "- `pkg/models.py`" in asked and "- `pkg/util.py`" in asked
    assert batches.batches == [["pkg/api.py"], ["pkg/util.py", "pkg/models.py"]]
    assert "pkg/models.py" in changes.changes and "pkg/api.py" in changes.changes
    assert changes.summary == "api models"  # both batches' summaries


def test_the_executor_runs_a_wide_phase_in_batches(git_repo: Path, tmp_path: Path) -> None:
    paths = [f"pkg/m{i:02}.py" for i in range(14)]
    spec = parse_spec(
        {
            "goal": "g",
            "phases": [
                {
                    "id": "wide",
                    "title": "Wide",
                    "deliverables": [{"path": p, "action": "create"} for p in paths],
                }
            ],
        }
    )
    ops = [{"op": "write", "path": p, "content": f"X{n} = {n}\n"} for n, p in enumerate(paths)]
    first = [*ops[:12], {"op": "done", "summary": "first"}]
    second = [*ops[12:], {"op": "done", "summary": "second"}]
    model = ReplayModelClient(
        [
            ReplayRecord(text=ops_text(first)),
            ReplayRecord(
                text="".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(second, 14))
            ),
        ]
    )
    lines: list[str] = []
    state = build_executor(
        spec, GitWorkspace(git_repo), model, LocalForge(tmp_path / "out"),
        ExecutorConfig(run_id="wide"), progress=lines.append,
    ).run()  # fmt: skip
    assert state.succeeded, [p.reason for p in state.phases]
    assert len(model.requests) == 2
    assert "batch 1 of 2" in model.requests[0].messages[0].content
    assert "batch 2 of 2" in model.requests[1].messages[-1].content
    assert all((git_repo / p).exists() for p in paths)
    assert any("in 2 batches" in line for line in lines)


def test_autopack_context_prints_the_ordered_request_the_executor_sends(
    git_repo: Path, tmp_path: Path
) -> None:
    (git_repo / "src" / "settings.py").write_text("LIMIT = 3\n", encoding="utf-8")
    (git_repo / "src" / "app.py").write_text(
        "from settings import LIMIT\n\n\ndef hello():\n    return 'hi' * LIMIT\n", encoding="utf-8"
    )
    repo = git.Repo(git_repo)
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "settings")
    spec = parse_spec(
        {
            "goal": "g",
            "phases": [
                {
                    "id": "p",
                    "title": "P",
                    "deliverables": [{"path": "src/app.py"}, {"path": "src/settings.py"}],
                }
            ],
        }
    )
    settings = RunSettings(run_id="ctx")
    _, printed = phase_request(spec, GitWorkspace(git_repo), settings)
    done = ops_text([{"op": "done", "summary": "nothing"}])
    model = ReplayModelClient([ReplayRecord(text=done)])
    config = settings.executor_config().model_copy(update={"build": BuildSettings()})
    build_executor(spec, GitWorkspace(git_repo), model, LocalForge(tmp_path / "o"), config).run()
    sent = model.requests[0]
    assert (sent.system, sent.messages[0].content) == (printed.system, printed.prompt)
    # settings.py (imported by app.py) is listed first, and the prompt says to keep the order.
    assert printed.prompt.index("`src/settings.py`") < printed.prompt.index("`src/app.py`")
    assert "Write the deliverables in the order listed" in printed.prompt


def test_a_batch_that_numbers_its_ops_from_1_again_is_told_not_silently_dropped(
    git_repo: Path,
) -> None:
    """Nothing was cut at a batch boundary, so there is no continuation whose repeats may be
    ignored (Contract 3). A batch turn whose ops restart at id 1 must have them rejected with the
    id to use (as a repair turn's are: ChangeSet.reopen), never ignored as "repeated after
    continuation". Today `_next_batch` calls `resume_after(last_id)`: batch 2's write is dropped
    without a word, the repair turn only says the `done` is missing, and the phase completes
    without pkg/b.py."""
    first = ops_text(
        [{"op": "write", "path": "pkg/a.py", "content": "A = 1\n"}, {"op": "done", "summary": "a"}]
    )
    restarted = ops_text(
        [{"op": "write", "path": "pkg/b.py", "content": "B = 2\n"}, {"op": "done", "summary": "b"}]
    )  # ids 1 and 2 again
    obeying = ops_text(  # told the id to use: the batch's ops again, from 3
        [{"op": "write", "path": "pkg/b.py", "content": "B = 2\n"}, {"op": "done", "summary": "b"}],
        first_id=3,
    )
    batches = PhaseBatches(
        [["pkg/a.py"], ["pkg/b.py"]], [BuildSettings(max_tokens=1000), BuildSettings()]
    )
    with MessagesServer([Reply(text=first), Reply(text=restarted), Reply(text=obeying)]) as server:
        client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
        changes = ChangeSet(GitWorkspace(git_repo))
        outcome = build_phase(
            client,
            model="claude-sonnet-4-6",
            system="system",
            prompt="phase prompt" + batch_note(0, 2, ["pkg/a.py"]),
            changes=changes,
            settings=batches.settings(0),
            batches=batches,
        )
        client.close()
        reqs = server.message_requests
    ignored = [r.describe() for r in changes.results if r.status.value == "ignored"]
    assert ignored == [], "ops of an uncut batch turn were ignored as continuation repeats"
    assert len(reqs) == 3 and "duplicate id" in reqs[2].message_text(-1)
    assert outcome.complete and changes.changes["pkg/b.py"] == b"B = 2\n"
