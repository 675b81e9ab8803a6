"""Contract 3 through the real anthropic SDK against the local Messages API server: truncation at op
boundaries and mid-line (1, 3 and 10 times in a row), dropped streams, the continuation limit and the
repair turn. Files must be byte-identical to an uncut run."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import git
import pytest

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.app.builder import build_phase
from autopack.app.compose import build_executor
from autopack.core.build import BuildOutcome, BuildSettings, ExecutorConfig
from autopack.core.edits.changeset import ChangeSet
from autopack.core.spec import parse_spec
from autopack.core.state import PhaseStatus
from support.messages_server import MessagesServer, Recorded, Reply
from support.ndjson import big_module, cut_script, line_starts, ops_text

MODEL = "claude-sonnet-4-6"
TEXT = ops_text(big_module(chunks=14))


@pytest.fixture
def server():
    with MessagesServer() as s:
        yield s


def client_for(server: MessagesServer, deadline_s: float = 600.0) -> AnthropicModelClient:
    return AnthropicModelClient(
        api_key="test", base_url=server.base_url, max_retries=2, deadline_s=deadline_s
    )


def build(
    server: MessagesServer,
    repo: Path,
    max_continuations: int = 10,
    deadline_s: float = 600.0,
    prompt: str = "phase prompt with the repo context",
) -> tuple[BuildOutcome, ChangeSet]:
    changes = ChangeSet(GitWorkspace(repo))
    outcome = build_phase(
        client_for(server, deadline_s),
        model=MODEL,
        system="system prompt",
        prompt=prompt,
        changes=changes,
        settings=BuildSettings(max_tokens=4000, max_continuations=max_continuations),
        phase_id="big",
    )
    return outcome, changes


def uncut(git_repo: Path) -> dict[str, bytes | None]:
    with MessagesServer([Reply(text=TEXT)]) as s:
        outcome, changes = build(s, git_repo)
    assert outcome.complete and outcome.continuations == 0
    return changes.changes


def mid_line_cuts(n: int) -> list[int]:
    starts = line_starts(TEXT)
    # Cut n consecutive lines, each a third of the way into the line.
    return [starts[i] + (starts[i + 1] - starts[i]) // 3 for i in range(1, n + 1)]


def boundary_cuts(n: int) -> list[int]:
    starts = line_starts(TEXT)
    return [starts[i + 1] for i in range(n)]


@pytest.mark.parametrize(
    ("kind", "n"),
    [("boundary", 1), ("boundary", 3), ("mid", 1), ("mid", 3), ("mid", 10), ("boundary", 10)],
)
def test_truncated_runs_give_byte_identical_files(
    git_repo: Path, server: MessagesServer, kind: str, n: int
) -> None:
    expected = uncut(git_repo)
    cuts = mid_line_cuts(n) if kind == "mid" else boundary_cuts(n)
    replies, partials = cut_script(TEXT, cuts)
    server.add(*replies)
    outcome, changes = build(server, git_repo)

    assert outcome.complete, outcome.error
    assert outcome.continuations == n
    assert changes.changes == expected
    assert [r.stop_reason for r in outcome.requests] == ["max_tokens"] * n + ["end_turn"]
    if kind == "boundary":
        assert all(p == "" for p in partials)
    else:
        assert all(p for p in partials)
    # Billing: only generated tokens, so the cut run costs the uncut output plus the repeated
    # partial lines (the server counts ceil(chars / 4) per request: at most 1 extra per request).
    sent = sum(len(r.text) for r in replies)
    assert sent == len(TEXT) + sum(len(p) for p in partials)
    billed = outcome.usage.output_tokens
    assert billed <= math.ceil(len(TEXT) / 4) + math.ceil(sum(map(len, partials)) / 4) + n + 1
    # No op is applied twice: repeated ids are ignored, never re-applied.
    assert [r.id for r in changes.applied()] == list(range(1, TEXT.count("\n") + 1))


def test_continuation_conversation_and_prompt_cache(git_repo: Path, server: MessagesServer) -> None:
    cuts = mid_line_cuts(3)
    replies, _ = cut_script(TEXT, cuts)
    server.add(*replies)
    outcome, _changes = build(server, git_repo)
    assert outcome.complete

    reqs = server.message_requests
    assert len(reqs) == 4
    assert all(r.body["stream"] is True for r in reqs)
    first_ids_kept = [0]
    for k, req in enumerate(reqs[1:], 1):
        msgs = req.messages
        assert len(msgs) == 1 + 2 * k  # the same conversation, plus assistant + user per cut
        assert msgs[0] == reqs[0].messages[0]  # unchanged prefix
        kept = req.message_text(2 * k - 1)
        seg = replies[k - 1].text
        assert kept == seg[: seg.rfind("\n")]  # the stream up to its last complete line
        first_ids_kept.append(first_ids_kept[-1] + kept.count("\n") + 1)
        assert f"Continue from operation id {first_ids_kept[-1] + 1}" in req.message_text(2 * k)
    assert [r.purpose for r in outcome.requests] == ["build"] + ["continue"] * 3


def test_continuations_carry_a_moving_cache_breakpoint(
    git_repo: Path, server: MessagesServer
) -> None:
    replies, _ = cut_script(TEXT, mid_line_cuts(3))
    server.add(*replies)
    context = "repo context line\n" * 400  # 7,200 chars: 1,800 tokens, over the 1,024 minimum
    outcome, _changes = build(server, git_repo, prompt=context)
    assert outcome.complete

    def marked(req: Recorded) -> list[int]:
        return [n for n, m in enumerate(req.messages) if "cache_control" in m["content"][0]]

    reqs = server.message_requests
    # The first request was planned as the only one: no breakpoint, no write premium. Each
    # continuation marks its newest turn: it reads what the one before it wrote.
    assert [marked(r) for r in reqs] == [[], [2], [4], [6]]
    assert all("cache_control" not in r.body["system"][0] for r in reqs)  # a short system prompt
    usage = [r.usage for r in outcome.requests]
    assert usage[0].cache_creation_input_tokens == usage[0].cache_read_input_tokens == 0
    assert usage[1].cache_read_input_tokens == 0 and usage[1].cache_creation_input_tokens > 450
    for before, after in itertools.pairwise(usage[1:]):
        cached = before.cache_creation_input_tokens + before.cache_read_input_tokens
        assert after.cache_read_input_tokens == cached
        assert 0 < after.cache_creation_input_tokens < cached  # only the new turns are written


def test_cut_before_any_complete_line_repeats_the_request(
    git_repo: Path, server: MessagesServer
) -> None:
    expected = uncut(git_repo)
    server.add(Reply(text=TEXT[:10], stop_reason="max_tokens"), Reply(text=TEXT))
    outcome, changes = build(server, git_repo)
    assert outcome.complete and outcome.continuations == 1
    assert changes.changes == expected
    assert server.message_requests[1].messages == server.message_requests[0].messages


def test_dropped_stream_resumes_by_continuation(git_repo: Path, server: MessagesServer) -> None:
    expected = uncut(git_repo)
    starts = line_starts(TEXT)
    drop = starts[5] + 17  # inside line 6
    server.add(Reply(text=TEXT, drop_after=drop), Reply(text=TEXT[starts[5] :]))
    outcome, changes = build(server, git_repo)

    assert outcome.complete, outcome.error
    assert changes.changes == expected
    assert [r.stop_reason for r in outcome.requests] == ["dropped", "end_turn"]
    assert "dropped" in outcome.requests[0].error
    assert outcome.requests[0].ops_received == 5
    second = server.message_requests[1]
    assert second.message_text(1) == TEXT[: starts[5] - 1]  # five complete ops, kept
    assert "Continue from operation id 6" in second.message_text(2)
    # The usage reported before the drop (message_start: input and cache) is kept.
    first = outcome.requests[0].usage
    assert first.input_tokens + first.cache_creation_input_tokens > 0


INTERRUPTIONS = {
    "error-event": (Reply(sse_error="overloaded_error"), "error event (overloaded_error"),
    "malformed-event": (
        Reply(raw_sse="event: content_block_delta\ndata: {not json\n\n"),
        "malformed",
    ),
    "deadline": (Reply(ping_every=0.05), "deadline of 1 s"),
}


@pytest.mark.parametrize("kind", list(INTERRUPTIONS))
def test_interrupted_stream_resumes_by_continuation(
    git_repo: Path, server: MessagesServer, kind: str
) -> None:
    # An SSE error event, a malformed event or the request deadline (a stream that only pings) cut
    # the stream like a dropped connection: Contract 3 continues after the last complete line.
    expected = uncut(git_repo)
    starts = line_starts(TEXT)
    cut, why = INTERRUPTIONS[kind]
    server.add(
        replace(cut, text=TEXT[: starts[5] + 17]), Reply(text=TEXT[starts[5] :])
    )  # in line 6
    outcome, changes = build(server, git_repo, deadline_s=1.0 if kind == "deadline" else 600.0)

    assert outcome.complete, outcome.error
    assert changes.changes == expected
    assert outcome.continuations == 1
    assert outcome.requests[0].stop_reason == "dropped"
    assert why in outcome.requests[0].error
    assert outcome.requests[0].ops_received == 5
    assert outcome.requests[-1].stop_reason == "end_turn"
    second = server.message_requests[1]
    assert second.message_text(1) == TEXT[: starts[5] - 1]  # five complete ops, kept
    assert "Continue from operation id 6" in second.message_text(2)
    assert [r.id for r in changes.applied()] == list(range(1, TEXT.count("\n") + 1))


SURROGATE_LINES = [
    '{"op": "write", "id": 1, "path": "src/a.py", "content": "def ok():\\n    return 1\\n"}',
    # "\ud800" is a lone surrogate in the SSE text; "\\ud800" is one the model escaped in its line.
    '{"op": "manifest", "id": 2, "files": [{"path": "src/a.py", "symbols": ["ok", "r\ud800", '
    '"e\\ud800"]}]}',
    '{"op": "done", "id": 3, "summary": "raw \ud800 escaped \\ud800"}',
]


def test_lone_surrogates_in_model_text_never_crash_the_build(
    git_repo: Path, server: MessagesServer
) -> None:
    text = "\n".join(SURROGATE_LINES) + "\n"
    cut = text.index('"summary"')  # cut off inside the done line: the manifest line is kept
    clean = [
        '{"op": "manifest", "id": 4, "files": [{"path": "src/a.py", "symbols": ["ok"]}]}',
        '{"op": "done", "id": 5, "summary": "ok"}',
    ]
    server.add(
        Reply(text=text[:cut], stop_reason="max_tokens"),
        Reply(text=text[text.index(SURROGATE_LINES[2]) :]),
        Reply(text="\n".join(clean) + "\n"),
    )
    outcome, changes = build(server, git_repo)

    assert outcome.complete, outcome.error
    assert changes.changes == {"src/a.py": b"def ok():\n    return 1\n"}
    statuses = [r.status.value for r in changes.results]
    assert statuses == ["applied", "rejected", "rejected", "applied", "applied"]
    assert all("lone surrogate U+D800" in r.reason for r in changes.results[1:3])
    # The kept text goes back to the API: the lone surrogate UTF-8 cannot encode is replaced.
    kept = server.message_requests[1].message_text(1)
    assert kept == "\n".join(SURROGATE_LINES[:2]).replace("\ud800", "\ufffd")
    assert '"e\\ud800"' in kept  # the escape the model wrote is text, sent as it was


@pytest.mark.parametrize("line", [1, 2], ids=["symbol", "summary"])
def test_lone_surrogates_through_the_executor(
    git_repo: Path, server: MessagesServer, tmp_path: Path, line: int
) -> None:
    """A lone surrogate in manifest.symbols or done.summary is refused with a reason (never a
    UnicodeEncodeError): the repair turn sends the line again without it and the phase commits."""
    lines = [
        SURROGATE_LINES[0],
        '{"op": "manifest", "id": 2, "files": [{"path": "src/a.py", "symbols": ["ok"]}]}',
        '{"op": "done", "id": 3, "summary": "fine"}',
    ]
    bad = list(lines)
    bad[line] = SURROGATE_LINES[line]
    # The refused line used up its id: the repair turn goes on from the next one, as it asks.
    again = [json.dumps({**json.loads(x), "id": n}) for n, x in enumerate(lines[line:], line + 2)]
    server.add(Reply(text="\n".join(bad[: line + 1]) + "\n"), Reply(text="\n".join(again)))
    spec = parse_spec({"goal": "Add a.py", "phases": [{"id": "a", "title": "Add a.py"}]})
    config = ExecutorConfig(run_id="surrogate", model=MODEL)
    state = build_executor(
        spec, GitWorkspace(git_repo), client_for(server), LocalForge(tmp_path / "out"), config
    ).run()
    assert state.phase("a").status is PhaseStatus.committed
    repair = server.message_requests[1].message_text(-1)
    assert "lone surrogate U+D800" in repair


def test_malformed_line_gets_one_repair_turn(git_repo: Path, server: MessagesServer) -> None:
    good = [
        '{"op": "write", "id": 1, "path": "src/a.py", "content": "A = 1\\n"}',
        '{"op": "write", "id": 2, "path": "src/b.py", "content": "B = 2\\n"',  # missing }
        '{"op": "edit", "id": 3, "path": "src/app.py", "old": "hi", "new": "hey"}',
        '{"op": "done", "id": 4, "summary": "x"}',
    ]
    repair = [
        '{"op": "write", "id": 5, "path": "src/b.py", "content": "B = 2\\n"}',
        '{"op": "done", "id": 6, "summary": "fixed b.py"}',
    ]
    server.add(Reply(text="\n".join(good) + "\n"), Reply(text="\n".join(repair) + "\n"))
    outcome, changes = build(server, git_repo)

    assert outcome.complete, outcome.error
    assert outcome.repairs == 1
    assert changes.changes["src/b.py"] == b"B = 2\n"
    assert changes.changes["src/a.py"] == b"A = 1\n"
    assert changes.changes["src/app.py"] == b"def hello():\n    return 'hey'\n"
    repair_req = server.message_requests[1]
    asked = repair_req.message_text(2)
    assert "line 2" in asked and "not valid JSON" in asked
    assert "Continue from operation id 5" in asked
    assert [r.purpose for r in outcome.requests] == ["build", "repair"]


def test_past_the_limit_the_phase_fails_and_nothing_is_committed(
    git_repo: Path, server: MessagesServer, tmp_path: Path
) -> None:
    replies, _ = cut_script(TEXT, mid_line_cuts(3))
    server.add(*replies[:3])  # the model is cut off three times; the limit is two
    spec = parse_spec(
        {
            "goal": "Add big.py",
            "phases": [
                {
                    "id": "big",
                    "title": "Big module",
                    "deliverables": [{"path": "src/big.py", "action": "create"}],
                }
            ],
        }
    )
    out = tmp_path / "out"
    head = git.Repo(git_repo).head.commit.hexsha
    config = ExecutorConfig(run_id="limit", build=BuildSettings(max_continuations=2), model=MODEL)
    state = build_executor(
        spec, GitWorkspace(git_repo), client_for(server), LocalForge(out), config
    ).run()

    record = state.phase("big")
    assert record.status is PhaseStatus.failed
    assert "cut off after 2 continuation(s) (limit 2)" in record.reason
    repo = git.Repo(git_repo)
    assert repo.head.commit.hexsha == head  # nothing committed
    assert not repo.is_dirty(untracked_files=True)
    assert not (git_repo / "src" / "big.py").exists()
    patch = Path(record.patch_file or "")
    assert patch.exists() and "src/big.py" in patch.read_text()
    assert record.ops_applied > 0
    telemetry = (out / "telemetry.json").read_text()
    assert '"continuations": 2' in telemetry


def test_context_window_exceeded_is_continued_like_max_tokens(
    git_repo: Path, server: MessagesServer
) -> None:
    expected = uncut(git_repo)
    replies, _ = cut_script(TEXT, mid_line_cuts(1))
    replies[0].stop_reason = "model_context_window_exceeded"
    server.add(*replies)
    outcome, changes = build(server, git_repo)
    assert outcome.complete and outcome.continuations == 1
    assert changes.changes == expected


def test_a_refused_continuation_ends_the_build_with_the_api_error(
    git_repo: Path, server: MessagesServer
) -> None:
    replies, _ = cut_script(TEXT, mid_line_cuts(1))
    server.add(replies[0], Reply(status=400, text="prompt is too long"))
    outcome, changes = build(server, git_repo)
    assert not outcome.complete
    assert outcome.error.startswith("model API error on continue request: request refused (400")
    assert "prompt is too long" in outcome.error
    assert [r.stop_reason for r in outcome.requests] == ["max_tokens", "error"]
    assert changes.last_id == 1  # what arrived before stays applied (and is reported)


@pytest.mark.parametrize("how", ["max_tokens", "dropped"])
def test_a_cut_right_after_the_done_line_is_not_continued(
    git_repo: Path, server: MessagesServer, how: str
) -> None:
    """Contract 2: `done` ends the stream. A response whose `done` line arrived complete and which
    then stopped at max_tokens (or whose connection dropped before message_stop) is complete: no
    continuation is asked for. Today the builder asks to "continue from operation id K+1 ... End
    with `done`"; a model that obeys sends `done` K+1, which is rejected as an op after 'done', and
    the phase needs a repair turn (here none is left: the complete phase fails)."""
    expected = uncut(git_repo)
    last_id = TEXT.count("\n")
    cut = (
        Reply(text=TEXT, stop_reason="max_tokens")
        if how == "max_tokens"
        else Reply(text=TEXT, drop_after=len(TEXT))
    )
    obeying = Reply(text=json.dumps({"op": "done", "id": last_id + 1, "summary": "done"}) + "\n")
    server.add(cut, obeying)
    changes = ChangeSet(GitWorkspace(git_repo))
    outcome = build_phase(
        client_for(server),
        model=MODEL,
        system="system prompt",
        prompt="phase prompt",
        changes=changes,
        settings=BuildSettings(max_tokens=4000, repair_turns=0),
        phase_id="big",
    )
    assert outcome.complete, outcome.error
    assert changes.changes == expected
    assert len(server.message_requests) == 1


@pytest.mark.parametrize("lead", ["\n", "\n\n", "  \n"])
def test_a_cut_after_only_blank_lines_sends_no_empty_assistant_turn(
    git_repo: Path, server: MessagesServer, lead: str
) -> None:
    """The Messages API refuses an empty or whitespace-only text block ("text content blocks must
    be non-empty" / "must contain non-whitespace text"). A response that opened with a blank line
    and was cut inside its first op has a `complete_text` of "\\n": the builder keeps it
    (`if kept:`) and sends an assistant turn of "" (after rstrip), so the real API answers 400
    and the phase fails. Nothing was kept: the request should simply be repeated."""
    expected = uncut(git_repo)
    starts = line_starts(TEXT)
    cut_text = lead + TEXT[: starts[1] // 2]  # blank line(s), then half of op 1
    server.add(Reply(text=cut_text, stop_reason="max_tokens"), Reply(text=TEXT))
    outcome, changes = build(server, git_repo)
    assert outcome.complete, outcome.error
    assert changes.changes == expected
    for req in server.message_requests:
        texts = [req.message_text(i) for i in range(len(req.messages))]
        assert all(t.strip() for t in texts), f"an empty text block was sent: {texts[:3]!r}"


def test_a_dropped_streams_output_is_counted_in_its_usage_and_cost(
    git_repo: Path, server: MessagesServer
) -> None:
    """The text a dropped (or deadline-cut) stream delivered was generated and is billed, but the
    record keeps message_start's usage, whose output_tokens is a placeholder (1): here ~5,800
    characters of ops count as 1 output token, so telemetry and the cost budget (which stops a
    phase only on counted spend) miss what the dropped requests cost."""
    starts = line_starts(TEXT)
    drop = starts[12] + 17  # inside line 13: twelve complete ops arrived
    server.add(Reply(text=TEXT, drop_after=drop), Reply(text=TEXT[starts[12] :]))
    outcome, _changes = build(server, git_repo)
    assert outcome.complete, outcome.error
    first = outcome.requests[0]
    assert first.stop_reason == "dropped"
    delivered = drop
    assert first.usage.output_tokens >= delivered // 8, (
        f"{delivered} characters delivered before the drop counted as "
        f"{first.usage.output_tokens} output token(s)"
    )


def test_a_conversation_that_fills_the_context_window_stops_instead_of_asking_for_1_token(
    git_repo: Path, server: MessagesServer
) -> None:
    """After a cut, max_tokens is the model's maximum inside the context window. When the grown
    conversation leaves no room (input estimate >= the window), `max_tokens_at` returns
    max(1, negative) = 1 and the builder sends the whole conversation again for one token of
    output, cut again, repeated (nothing kept) until the continuation limit: each a full-price
    request that cannot make progress. It should stop at once, naming the context window."""
    starts = line_starts(TEXT)
    first = TEXT[: starts[8] + 5]  # eight complete ops, then a cut
    one_token = Reply(text='{"', stop_reason="max_tokens")
    server.add(Reply(text=first, stop_reason="max_tokens"), *[one_token] * 5)
    changes = ChangeSet(GitWorkspace(git_repo))
    prompt = "phase prompt with the repo context\n" * 100  # 3,500 chars
    window = int((len("system prompt") + len(prompt)) / 2.5) + 600
    outcome = build_phase(
        client_for(server),
        model=MODEL,
        system="system prompt",
        prompt=prompt,
        changes=changes,
        settings=BuildSettings(
            max_tokens=4000,
            max_continuations=5,
            max_output_tokens=64_000,
            max_after_plan=True,
            context_window=window,
        ),
        phase_id="big",
    )
    assert not outcome.complete
    sent = [r.body["max_tokens"] for r in server.message_requests]
    assert sent[0] == 600
    assert 1 not in sent, f"requests for 1 output token were sent: max_tokens {sent}"
    assert len(sent) <= 2
