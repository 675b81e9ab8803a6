"""Model clients close their HTTP connections when asked (the Action and `autopack followup` do at
the end): the real SDK against the local Messages API server."""

from __future__ import annotations

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.lazy_model import LazyModelClient
from autopack.core.model_io import Message, ModelRequest
from support.messages_server import MessagesServer, Reply

REQUEST = ModelRequest(
    model="claude-haiku-4-5",
    system="s",
    messages=(Message(role="user", content="p"),),
    max_tokens=100,
    purpose="build",
)


def test_close_closes_the_sdk_client_after_a_stream() -> None:
    with MessagesServer([Reply(text='{"op": "done", "id": 1}\n')]) as server:
        client = AnthropicModelClient(api_key="k", base_url=server.base_url, max_retries=0)
        client.stream(REQUEST, lambda _text: None)
        assert not client.client.is_closed()
        client.close()
        assert client.client.is_closed()


def test_a_lazy_client_closes_the_client_it_made_and_nothing_before() -> None:
    with MessagesServer([Reply(text='{"op": "done", "id": 1}\n')]) as server:
        made: list[AnthropicModelClient] = []

        def make() -> AnthropicModelClient:
            made.append(AnthropicModelClient(api_key="k", base_url=server.base_url))
            return made[-1]

        lazy = LazyModelClient(make)
        lazy.close()  # nothing made yet: nothing to close, nothing made
        assert made == []
        lazy.stream(REQUEST, lambda _text: None)
        lazy.close()
        assert made[0].client.is_closed()
