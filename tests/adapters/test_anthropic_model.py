"""The Anthropic adapter: the real SDK against the local Messages API server (SSE streaming)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from autopack.adapters.anthropic_model import AnthropicModelClient, build_params
from autopack.adapters.package_data import lookup
from autopack.core.model_io import CacheMarks
from autopack.errors import (
    AutopackError,
    ModelConnectionError,
    ModelRequestError,
    OverloadedError,
    RateLimitError,
    ServerError,
)
from autopack.ports import Message, ModelRequest, TokenCounter
from support.messages_server import MessagesServer, Reply

MODEL = "claude-sonnet-4-6"


def request(
    text: str = "hello", max_tokens: int = 1000, cache: CacheMarks | None = None
) -> ModelRequest:
    return ModelRequest(
        model=MODEL,
        system="You are a test.",
        messages=(Message(role="user", content=text),),
        max_tokens=max_tokens,
        phase_id="p1",
        cache=cache or CacheMarks(),
    )


def api_key(headers: dict[str, str]) -> str:
    """The key as the SDK sends it (x-api-key, or a bearer token in newer SDKs)."""
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


@pytest.fixture
def server():
    with MessagesServer() as s:
        yield s


@pytest.fixture(autouse=True)
def _close_sdk_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every SDK client a test makes is closed after it: a keep-alive socket left to the garbage
    collector may be finalized before the client that would close it (a ResourceWarning, which
    filterwarnings=error turns into a failure of whichever test or session end it lands in)."""
    made: list[AnthropicModelClient] = []
    init = AnthropicModelClient.__init__

    def recording(self: AnthropicModelClient, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(AnthropicModelClient, "__init__", recording)
    yield
    for c in made:
        c.client.close()


def client(
    server: MessagesServer, retries: int = 2, timeout_s: float = 30.0
) -> AnthropicModelClient:
    return AnthropicModelClient(
        api_key="test", base_url=server.base_url, max_retries=retries, timeout_s=timeout_s
    )


def test_streams_text_as_it_arrives_with_usage_and_cache(server: MessagesServer) -> None:
    text = "line one\nline two\n" * 20
    server.add(Reply(text=text, chunk_chars=7), Reply(text="again\n"))
    chunks: list[str] = []
    c = client(server)
    marked = CacheMarks(system=True, messages=(0,))
    resp = c.stream(request("context " * 600, cache=marked), chunks.append)  # 1,200 tokens

    assert resp.text == text and "".join(chunks) == text
    assert len(chunks) == -(-len(text) // 7)  # one callback per text_delta event
    assert resp.stop_reason == "end_turn"
    assert resp.usage.output_tokens == -(-len(text) // 4)
    assert resp.usage.cache_creation_input_tokens > 0 and resp.usage.cache_read_input_tokens == 0
    assert resp.elapsed_s is not None and resp.elapsed_s >= 0

    again = c.stream(request("context " * 600, cache=marked), lambda _c: None)
    c.client.close()
    assert again.usage.cache_read_input_tokens == resp.usage.cache_creation_input_tokens
    assert again.usage.cache_creation_input_tokens == 0

    sent = server.message_requests[0]
    assert sent.path == "/v1/messages"
    assert api_key(sent.headers) == "test"
    assert sent.body["stream"] is True
    assert sent.body["model"] == MODEL and sent.body["max_tokens"] == 1000
    assert sent.body["system"] == [
        {"type": "text", "text": "You are a test.", "cache_control": {"type": "ephemeral"}}
    ]
    assert sent.body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}


def test_cost_from_usage_and_model_table(server: MessagesServer) -> None:
    usage = {
        "input_tokens": 1000,
        "output_tokens": 2000,
        "cache_creation_input_tokens": 4000,
        "cache_read_input_tokens": 8000,
    }
    server.add(Reply(text="x\n", usage=usage, stop_reason="max_tokens"))
    resp = client(server).stream(request(), lambda _c: None)
    assert resp.truncated
    assert resp.usage.model_dump() == usage
    info = lookup(MODEL)
    # $3/M input, $15/M output, cache write 1.25x input, cache read 0.1x input.
    expected = (1000 * 3 + 2000 * 15 + 4000 * 3.75 + 8000 * 0.3) / 1e6
    assert info.cost_usd(resp.usage) == pytest.approx(expected)


@pytest.mark.parametrize("status", [429, 529, 500])
def test_retries_honour_retry_after(server: MessagesServer, status: int) -> None:
    server.add(
        Reply(status=status, headers={"retry-after-ms": "20"}),
        Reply(status=status, headers={"retry-after": "0.02"}),
        Reply(text="ok\n"),
    )
    started = time.monotonic()
    resp = client(server, retries=2).stream(request(), lambda _c: None)
    elapsed = time.monotonic() - started
    assert resp.text == "ok\n"
    assert len(server.message_requests) == 3
    # The SDK's own backoff would wait >= 0.375 s per retry; retry-after said 0.02 s.
    assert elapsed < 0.6
    assert server.message_requests[2].headers["x-stainless-retry-count"] == "2"


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimitError), (529, OverloadedError), (500, ServerError), (503, ServerError)],
)
def test_status_errors_map_into_our_tree(server: MessagesServer, status: int, error: type) -> None:
    server.add(*[Reply(status=status, headers={"retry-after": "0.01"}) for _ in range(2)])
    with pytest.raises(error) as info:
        client(server, retries=1).stream(request(), lambda _c: None)
    assert str(status) in str(info.value)
    assert len(server.message_requests) == 2  # one try + one SDK retry
    if status == 429:
        assert info.value.retry_after == pytest.approx(0.01)


def test_4xx_is_a_request_error_and_not_retried(server: MessagesServer) -> None:
    server.add(Reply(status=400, text="max_tokens: too large"), Reply(text="never\n"))
    with pytest.raises(
        ModelRequestError, match=r"400 invalid_request_error.*max_tokens: too large"
    ):
        client(server).stream(request(), lambda _c: None)
    assert len(server.message_requests) == 1


def test_dropped_connection_carries_the_partial_text(server: MessagesServer) -> None:
    text = '{"op": "write", "id": 1}\n{"op": "done", "id": 2}\n'
    server.add(Reply(text=text, drop_after=30, chunk_chars=5))
    got: list[str] = []
    with pytest.raises(ModelConnectionError, match="dropped after 30 characters") as info:
        client(server).stream(request(), got.append)
    assert info.value.partial_text == text[:30] == "".join(got)
    usage = info.value.usage
    assert usage is not None and usage.input_tokens + usage.cache_creation_input_tokens > 0
    assert len(server.message_requests) == 1  # a stream is never retried from the start


def test_timeout_mid_stream_is_a_connection_error(server: MessagesServer) -> None:
    server.add(Reply(text="abcdefghij" * 5, stall_after=20, stall_s=1.0, chunk_chars=10))
    with pytest.raises(ModelConnectionError, match="timed out") as info:
        client(server, retries=0, timeout_s=0.3).stream(request(), lambda _c: None)
    assert info.value.partial_text == "abcdefghij" * 2


@pytest.mark.parametrize("kind", ["overloaded_error", "api_error", "rate_limit_error"])
def test_error_event_mid_stream_is_a_dropped_stream(server: MessagesServer, kind: str) -> None:
    # An SSE `error` event after some text cuts the stream like a dropped connection: the builder
    # continues from the last complete line instead of failing the phase.
    server.add(Reply(text="partial\n", sse_error=kind))
    got: list[str] = []
    with pytest.raises(
        ModelConnectionError, match=rf"error event \({kind}: .+\) after 8 char"
    ) as info:
        client(server).stream(request(), got.append)
    assert info.value.mid_stream and info.value.partial_text == "partial\n" == "".join(got)
    usage = info.value.usage
    assert usage is not None and usage.input_tokens + usage.cache_creation_input_tokens > 0
    assert len(server.message_requests) == 1  # a stream is never retried from the start


def test_error_event_refusing_the_request_is_not_a_drop(server: MessagesServer) -> None:
    server.add(Reply(text="partial\n", sse_error="invalid_request_error"))
    with pytest.raises(ServerError, match=r"invalid_request_error.*after 8 characters") as info:
        client(server).stream(request(), lambda _c: None)
    assert not isinstance(info.value, ModelConnectionError)


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("event: content_block_delta\ndata: {not json\n\n", r"data is not JSON .*'\{not json'"),
        ("event: content_block_delta\ndata: \udcff\n\n", r"not valid UTF-8"),
        (
            'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 7, '
            '"delta": {"type": "text_delta", "text": "x"}}\n\n',
            r"IndexError",
        ),
    ],
    ids=["not-json", "not-utf8", "no-such-block"],
)
def test_malformed_event_is_a_dropped_stream(server: MessagesServer, raw: str, what: str) -> None:
    server.add(Reply(text="partial\n", raw_sse=raw))
    got: list[str] = []
    with pytest.raises(ModelConnectionError, match="malformed after 8 characters") as info:
        client(server).stream(request(), got.append)
    assert re.search(what, str(info.value)), str(info.value)
    assert info.value.mid_stream and info.value.partial_text == "partial\n" == "".join(got)
    assert len(server.message_requests) == 1


def test_deadline_ends_a_stream_that_only_pings(server: MessagesServer) -> None:
    server.add(Reply(text="partial\n", ping_every=0.05))
    c = AnthropicModelClient(
        api_key="test", base_url=server.base_url, max_retries=0, timeout_s=30.0, deadline_s=0.5
    )
    started = time.monotonic()
    with pytest.raises(ModelConnectionError, match=r"deadline of 0\.5 s") as info:
        c.stream(request(), lambda _c: None)
    assert time.monotonic() - started < 1.5
    assert info.value.mid_stream and info.value.partial_text == "partial\n"
    usage = info.value.usage
    assert usage is not None and usage.input_tokens + usage.cache_creation_input_tokens > 0


def test_deadline_ends_a_silent_stream(server: MessagesServer) -> None:
    # Silence longer than the deadline: the read timeout is capped at the deadline.
    server.add(Reply(text="abcdefghij" * 5, stall_after=20, stall_s=10.0, chunk_chars=10))
    c = AnthropicModelClient(
        api_key="test", base_url=server.base_url, max_retries=0, timeout_s=30.0, deadline_s=0.5
    )
    started = time.monotonic()
    with pytest.raises(ModelConnectionError, match=r"deadline of 0\.5 s") as info:
        c.stream(request(), lambda _c: None)
    assert time.monotonic() - started < 1.5
    assert info.value.partial_text == "abcdefghij" * 2


def test_deadline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    assert AnthropicModelClient(api_key="k").deadline_s == 600.0  # the default
    monkeypatch.setenv("AUTOPACK_REQUEST_DEADLINE_S", "42.5")
    assert AnthropicModelClient.from_env().deadline_s == 42.5
    for bad in ("soon", "0", "-1", "nan"):
        monkeypatch.setenv("AUTOPACK_REQUEST_DEADLINE_S", bad)
        with pytest.raises(AutopackError, match=f"AUTOPACK_REQUEST_DEADLINE_S.*{bad!r}"):
            AnthropicModelClient.from_env()


def test_lone_surrogates_in_a_request_are_replaced(server: MessagesServer) -> None:
    # A JSON "\ud800" escape decodes to a lone surrogate, which UTF-8 cannot encode: model text sent
    # back (continuation, repair) or a prompt quoting it must not crash the request.
    req = ModelRequest(
        model=MODEL,
        system="sys \ud800",
        messages=(
            Message(role="user", content="a\udfffb 😀 é"),
            Message(role="assistant", content='{"op": "done", "id": 1, "summary": "x \ud83d"}'),
            Message(role="user", content="go on"),
        ),
        max_tokens=100,
    )
    params = build_params(req)
    assert params["system"][0]["text"] == "sys \ufffd"
    texts = [m["content"][0]["text"] for m in params["messages"]]
    assert texts == ["a\ufffdb 😀 é", '{"op": "done", "id": 1, "summary": "x \ufffd"}', "go on"]
    server.add(Reply(text="ok\n"))
    assert client(server).stream(req, lambda _c: None).text == "ok\n"
    assert server.message_requests[0].message_text(0) == "a\ufffdb 😀 é"


def test_api_key_and_base_url_from_the_environment(
    server: MessagesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(AutopackError, match="ANTHROPIC_API_KEY is not set"):
        AnthropicModelClient.from_env()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    server.add(Reply(text="from env\n"))
    resp = AnthropicModelClient.from_env(max_retries=0).stream(request(), lambda _c: None)
    assert resp.text == "from env\n"
    assert api_key(server.message_requests[0].headers) == "sk-env"


def test_build_params_marks_exactly_what_the_request_says() -> None:
    msgs = (
        Message(role="user", content="repo context"),
        Message(role="assistant", content="ops"),
        Message(role="user", content="continue"),
    )
    req = ModelRequest(model=MODEL, system="sys", messages=msgs, max_tokens=64_000)

    def marks(params: dict[str, object]) -> list[bool]:
        return [bool(m["content"][0].get("cache_control")) for m in params["messages"]]  # type: ignore[attr-defined,index]

    plain = build_params(req)
    assert marks(plain) == [False, False, False]  # no marks asked: none sent
    assert "cache_control" not in plain["system"][0]
    assert plain["max_tokens"] == 64_000
    moving = req.model_copy(update={"cache": CacheMarks(system=True, messages=(2,))})
    assert marks(build_params(moving)) == [False, False, True]
    assert build_params(moving)["system"][0]["cache_control"] == {"type": "ephemeral"}
    off = build_params(moving, cache=False)
    assert marks(off) == [False, False, False] and "cache_control" not in off["system"][0]


def test_count_tokens_asks_the_endpoint_and_removes_the_framing(server: MessagesServer) -> None:
    c = client(server)
    assert isinstance(c, TokenCounter)
    texts = ["x" * 400, "", "y" * 40]
    assert c.count_tokens(MODEL, texts) == [100, 0, 10]  # 4 chars a token on the stand-in
    counted = server.count_requests
    assert len(counted) == 3  # the framing once (cached per model), then one per non-empty text
    assert all(r.body["model"] == MODEL for r in counted)
    assert server.message_requests == []  # counting sends no message and uses no reply
    c.count_tokens(MODEL, ["z" * 8])
    assert len(server.count_requests) == 4
    server.count_status = 404  # an endpoint that does not count: the caller estimates
    assert client(server).count_tokens(MODEL, ["abc"]) is None


def test_unreachable_api_is_not_a_dropped_stream(git_repo) -> None:
    import socket

    from autopack.adapters.git_workspace import GitWorkspace
    from autopack.app.builder import build_phase
    from autopack.core.build import BuildSettings
    from autopack.core.edits.changeset import ChangeSet

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    c = AnthropicModelClient(api_key="test", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(ModelConnectionError, match="cannot reach the API") as info:
        c.stream(request(), lambda _c: None)
    assert info.value.mid_stream is False
    outcome = build_phase(
        c,
        model=MODEL,
        system="s",
        prompt="p",
        changes=ChangeSet(GitWorkspace(git_repo)),
        settings=BuildSettings(),
    )
    assert not outcome.complete and outcome.continuations == 0  # not retried as a continuation
    assert "cannot reach the API" in outcome.error
