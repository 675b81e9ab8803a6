"""ModelClient on the real `anthropic` SDK: every request streams (`messages.stream`), text goes to
`on_text` as it arrives, and the response carries stop_reason, usage (cache included) and wall time.

SDK errors become the project's tree (errors.py): 429 -> RateLimitError (retry_after), 529 ->
OverloadedError, other 5xx -> ServerError, a dropped connection or timeout -> ModelConnectionError
(with the text that arrived), other 4xx -> ModelRequestError. Retries are the SDK's own (they honour
retry-after / retry-after-ms); they happen before a stream starts, never in the middle of one.

Prompt caching: `cache_control` breakpoints on the system prompt and on the first user message (the
phase prompt with the repo context), so continuation and repair turns re-read that prefix from cache.
`ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` are read as the SDK defines them."""

from __future__ import annotations

import os
import time
from typing import Any, get_args

import anthropic
import httpx2

from autopack.core.usage import Usage
from autopack.errors import (
    AutopackError,
    ModelConnectionError,
    ModelError,
    ModelRequestError,
    OverloadedError,
    RateLimitError,
    ServerError,
)
from autopack.ports import ModelRequest, ModelResponse, StopReason, TextSink

DEFAULT_MAX_RETRIES = 4
DEFAULT_TIMEOUT_S = 600.0
_EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
STOP_REASONS: frozenset[str] = frozenset(get_args(StopReason))


def build_params(request: ModelRequest, *, cache: bool = True) -> dict[str, Any]:
    """The `messages.stream` keyword arguments for `request` (pure)."""
    system: list[dict[str, Any]] = [{"type": "text", "text": request.system}]
    messages: list[dict[str, Any]] = []
    for n, msg in enumerate(request.messages):
        block: dict[str, Any] = {"type": "text", "text": msg.content}
        if cache and n == 0 and msg.role == "user":
            block["cache_control"] = dict(_EPHEMERAL)
        messages.append({"role": msg.role, "content": [block]})
    if cache:
        system[0]["cache_control"] = dict(_EPHEMERAL)
    return {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": system,
        "messages": messages,
    }


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    return Usage(
        input_tokens=raw.input_tokens or 0,
        output_tokens=raw.output_tokens or 0,
        cache_creation_input_tokens=getattr(raw, "cache_creation_input_tokens", None) or 0,
        cache_read_input_tokens=getattr(raw, "cache_read_input_tokens", None) or 0,
    )


def _retry_after(headers: httpx2.Headers | None) -> float | None:
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            continue
    return None


def map_status_error(exc: anthropic.APIStatusError, partial: str = "") -> ModelError:
    """A status error (HTTP status, or an SSE `error` event mid-stream) as our exception."""
    status = exc.status_code
    kind = exc.type or ""
    detail = exc.api_message or exc.message
    where = f" after {len(partial)} characters of output" if partial else ""
    if status == 429 or kind == "rate_limit_error":
        after = _retry_after(exc.response.headers)
        return RateLimitError(f"rate limited (429){where}: {detail}", retry_after=after)
    if status == 529 or kind == "overloaded_error":
        return OverloadedError(f"the API is overloaded (529){where}: {detail}")
    if status >= 500 or kind == "api_error":
        return ServerError(f"server error ({status}){where}: {detail}")
    if 400 <= status < 500:
        return ModelRequestError(f"request refused ({status} {kind or 'error'}): {detail}")
    return ServerError(f"stream error ({kind or status}){where}: {detail}")


class AnthropicModelClient:
    """The ModelClient port on the Anthropic Messages API."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        cache: bool = True,
    ) -> None:
        if not api_key:
            raise ModelRequestError("no Anthropic API key: set ANTHROPIC_API_KEY")
        self.cache = cache
        self.client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,  # None: the SDK reads ANTHROPIC_BASE_URL, else the public API
            max_retries=max_retries,
            timeout=httpx2.Timeout(timeout_s, connect=10.0),
        )

    @classmethod
    def from_env(
        cls, *, max_retries: int = DEFAULT_MAX_RETRIES, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> AnthropicModelClient:
        key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
        if not key:
            raise AutopackError(
                "ANTHROPIC_API_KEY is not set: export it (and ANTHROPIC_BASE_URL for another "
                "endpoint), or pass --replay FILE to run from a recorded transcript"
            )
        return cls(api_key=key, max_retries=max_retries, timeout_s=timeout_s)

    def stream(self, request: ModelRequest, on_text: TextSink) -> ModelResponse:
        params = build_params(request, cache=self.cache)
        parts: list[str] = []
        usage = Usage()
        stop_reason: str | None = None
        stopped = opened = False
        started = time.monotonic()
        try:
            with self.client.messages.stream(**params) as events:
                opened = True
                for event in events:
                    if event.type == "message_start":
                        usage = _usage(event.message.usage)
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        parts.append(event.delta.text)
                        on_text(event.delta.text)
                    elif event.type == "message_delta":
                        stop_reason = event.delta.stop_reason
                        usage = _usage(events.current_message_snapshot.usage)
                    elif event.type == "message_stop":
                        stopped = True
        except anthropic.APIStatusError as exc:
            raise map_status_error(exc, "".join(parts)) from exc
        except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
            text = "".join(parts)
            timeout = isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException)
            if not opened:
                raise ModelConnectionError(
                    f"cannot reach the API at {self.client.base_url} "
                    f"({'timed out' if timeout else 'connection failed'}): {exc}",
                    mid_stream=False,
                ) from exc
            what = "timed out" if timeout else "dropped"
            raise ModelConnectionError(
                f"the connection {what} after {len(text)} characters of output: {exc}",
                partial_text=text,
                usage=usage,
            ) from exc
        text = "".join(parts)
        if stop_reason is not None and stop_reason not in STOP_REASONS:
            raise ServerError(f"the API returned an unknown stop_reason {stop_reason!r}")
        if not stopped or stop_reason is None:
            raise ModelConnectionError(
                f"the stream ended without message_stop after {len(text)} characters of output",
                partial_text=text,
                usage=usage,
            )
        return ModelResponse(
            text=text,
            stop_reason=stop_reason,
            usage=usage,
            elapsed_s=round(time.monotonic() - started, 3),
        )
