"""Caching that pays, on the stand-in Messages API (which accounts prompt caching by Anthropic's rules:
1,024-token minimum, 1.25x writes, 0.1x reads, 20-block lookback), through the real SDK: a run's
single-request phases pay no write premium, a shared system prompt is written once and read by the
next phase, and a phase cut many times reads its growing conversation through a moving breakpoint.
"Today" is the placement before issue #15 (system prompt + first user message on every request),
sent by a client that only rewrites the marks, on the same scripted replies."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.app.builder import build_phase
from autopack.app.compose import build_executor
from autopack.core.budget.caching import CacheContext
from autopack.core.build import BuildOutcome, BuildSettings, ExecutorConfig
from autopack.core.edits.changeset import ChangeSet
from autopack.core.model_io import CacheMarks
from autopack.core.spec import parse_spec
from autopack.core.usage import Usage
from autopack.ports import ModelClient, ModelRequest, ModelResponse, TextSink
from support.messages_server import MessagesServer, Reply
from support.ndjson import big_module, cut_script, line_starts, ops_text

MODEL = "claude-sonnet-4-6"


class TodaysPlacement:
    """The same client, with the breakpoints Autopack placed before #15: the system prompt and the
    first user message, on every request."""

    def __init__(self, inner: ModelClient) -> None:
        self.inner = inner

    def stream(self, request: ModelRequest, on_text: TextSink) -> ModelResponse:
        marks = CacheMarks(system=True, messages=(0,))
        return self.inner.stream(request.model_copy(update={"cache": marks}), on_text)


def input_side(usage: Usage) -> float:
    """Input-side cost in units of the input price."""
    return (
        usage.input_tokens
        + 1.25 * usage.cache_creation_input_tokens
        + 0.1 * usage.cache_read_input_tokens
    )


def uncached(usage: Usage) -> int:
    return usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens


@pytest.fixture
def server() -> Iterator[MessagesServer]:
    with MessagesServer() as s:
        yield s


OPEN: list[AnthropicModelClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def client(server: MessagesServer) -> AnthropicModelClient:
    made = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
    OPEN.append(made)
    return made


def _two_phase_run(repo: Path, server: MessagesServer, today: bool, out: Path) -> list[Usage]:
    """A real run of two phases, each editing a ~2,000-token file in one response."""
    work = git.Repo(repo)
    for name in ("a", "b"):
        body = "".join(f"def {name}_{i}(x):\n    return x + {i}\n\n\n" for i in range(220))
        (repo / "src" / f"{name}.py").write_text(body, encoding="utf-8")
    work.git.add("-A")
    work.git.commit("-q", "-m", "two modules")
    spec = parse_spec(
        {
            "goal": "tweak two modules",
            "model": MODEL,
            "phases": [
                {"id": n, "title": f"Edit {n}", "deliverables": [{"path": f"src/{n}.py"}]}
                for n in ("a", "b")
            ],
        }
    )
    for n in ("a", "b"):
        ops = [
            {
                "op": "edit",
                "path": f"src/{n}.py",
                "old": "return x + 7\n",
                "new": "return x + 70\n",
            },
            {"op": "done", "summary": f"edited {n}"},
        ]
        server.add(Reply(text=ops_text(ops)))
    model: ModelClient = client(server)
    if today:
        model = TodaysPlacement(model)
    config = ExecutorConfig(run_id="cache-today" if today else "cache-pays")
    state = build_executor(spec, GitWorkspace(repo), model, LocalForge(out), config).run()
    assert state.succeeded
    telemetry = json.loads((out / "telemetry.json").read_text(encoding="utf-8"))
    return [Usage(**r["usage"]) for p in telemetry["phases"] for r in p["requests"]]


def test_single_request_phases_pay_no_write_premium(git_repo: Path, tmp_path: Path) -> None:
    with MessagesServer() as s:
        ours = _two_phase_run(git_repo, s, today=False, out=tmp_path / "ours")
        sent = s.message_requests
    assert len(ours) == 2
    assert all("cache_control" not in json.dumps(r.body) for r in sent)
    total = Usage.total(ours)
    assert uncached(total) > 2 * 1024  # each prompt is over the minimum cacheable length
    assert input_side(total) <= 1.02 * uncached(total)
    # Today's placement wrote each phase's prompt at 1.25x and never read it back.
    other = tmp_path / "other"
    git.Repo.clone_from(git_repo, other)
    with MessagesServer() as s:
        today = Usage.total(_two_phase_run(other, s, today=True, out=tmp_path / "today"))
    assert input_side(today) > 1.2 * uncached(today)


def test_a_shared_system_prompt_is_written_once_and_read_by_the_next_phase(
    git_repo: Path, server: MessagesServer
) -> None:
    system = "Repository map line with a signature.\n" * 150  # 5,700 chars: ~1,400 tokens
    server.add(Reply(text=ops_text([{"op": "done", "summary": "a"}])))
    server.add(Reply(text=ops_text([{"op": "done", "summary": "b"}])))
    usages = []
    # The first phase has one phase after it; the last has none but reads what the first wrote.
    for ctx in (CacheContext(shared_reads=1), CacheContext(shared_written=True)):
        outcome = build_phase(
            client(server),
            model=MODEL,
            system=system,
            prompt="a short phase prompt",
            changes=ChangeSet(GitWorkspace(git_repo)),
            settings=BuildSettings(cache=ctx),
        )
        assert outcome.complete
        usages.append(outcome.requests[0].usage)
    first, second = usages
    assert all(r.body["system"][0].get("cache_control") for r in server.message_requests)
    assert first.cache_creation_input_tokens >= 1024 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    total = Usage.total(usages)
    assert input_side(total) <= 1.02 * uncached(total)
    assert input_side(total) < 0.75 * uncached(total)


def _cut_nine_times(server: MessagesServer, repo: Path, model: ModelClient) -> BuildOutcome:
    chunks = 1
    while len(ops_text(big_module(chunks))) < 118_000:
        chunks += 10
    text = ops_text(big_module(chunks))
    starts = line_starts(text)
    cuts = []
    for k in range(1, 10):  # ~3,000 tokens (12,000 chars) per response, each cut mid-line
        at = k * len(text) // 10
        line = max(s for s in starts if s <= at)
        cuts.append(line + 7)
    replies, partials = cut_script(text, cuts)
    server.add(*replies)
    outcome = build_phase(
        model,
        model=MODEL,
        system="system prompt",
        prompt="repo context line, twenty-four chars\n" * 650,  # ~24,000 chars: 6,000 tokens
        changes=ChangeSet(GitWorkspace(repo)),
        settings=BuildSettings(max_tokens=3000, max_continuations=12),
    )
    assert outcome.complete and outcome.continuations == 9
    true_output = math.ceil(len(text) / 4)
    repeated = sum(math.ceil(len(p) / 4) + 1 for p in partials)  # one partial line per cut
    assert true_output <= outcome.usage.output_tokens <= true_output + repeated + len(replies)
    return outcome


def test_a_phase_cut_nine_times_reads_its_growing_conversation(
    git_repo: Path, tmp_path: Path
) -> None:
    with MessagesServer() as s:
        ours = _cut_nine_times(s, git_repo, client(s))
    other = tmp_path / "other"
    git.Repo.clone_from(git_repo, other)
    with MessagesServer() as s:
        today = _cut_nine_times(s, other, TodaysPlacement(client(s)))
    assert [uncached(r.usage) for r in ours.requests] == [uncached(r.usage) for r in today.requests]
    ours_cost = sum(input_side(r.usage) for r in ours.requests)
    today_cost = sum(input_side(r.usage) for r in today.requests)
    assert ours_cost <= 0.55 * today_cost
