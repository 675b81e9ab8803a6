"""ModelClient on the real `anthropic` SDK: every request streams (`messages.stream`), text goes to
`on_text` as it arrives, and the response carries stop_reason, usage (cache included) and wall time.

SDK errors become the project's tree (errors.py): 429 -> RateLimitError (retry_after), 529 ->
OverloadedError, other 5xx -> ServerError, a dropped connection or timeout -> ModelConnectionError
(with the text that arrived), other 4xx -> ModelRequestError. Retries are the SDK's own (they honour
retry-after / retry-after-ms); they happen before a stream starts, never in the middle of one.

Once a stream is open, whatever cuts it short is a ModelConnectionError with the text and usage that
arrived, which the builder continues like a dropped connection: an SSE `error` event (overloaded,
api or rate-limit error; one that refuses the request stays a ModelError), a malformed event (data
that is not JSON or not UTF-8, an event of the wrong shape), and the request deadline. The deadline
(`deadline_s`, AUTOPACK_REQUEST_DEADLINE_S in `from_env`) is wall time from the start of the request;
it is checked as each chunk of the body arrives, so a stream that only sends `ping` events cannot
hold it open, and the read timeout is capped at it, so a silent one cannot either.

Lone surrogates (a JSON "\\ud800" escape decodes to one; UTF-8 cannot encode it) in the text sent
are replaced by U+FFFD, so model text quoted back in a continuation or repair turn cannot break a
request. Prompt caching: `cache_control` breakpoints go exactly where the request's `cache` marks
say (the system prompt, given messages), decided in core/budget/caching.py by expected cost; with
`cache=False` none are sent. `count_tokens` asks the free token-counting endpoint for the input
tokens of texts (the TokenCounter port). `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` are read as
the SDK defines them."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import anthropic
import httpx2
from anthropic.lib.streaming import MessageStream, ParsedMessageStreamEvent

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
DEFAULT_DEADLINE_S = 600.0
DEADLINE_ENV = "AUTOPACK_REQUEST_DEADLINE_S"
CHARS_PER_OUTPUT_TOKEN = 3.0  # output of a cut stream, counted high (code runs 3-4 chars a token)
_EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
STOP_REASONS: frozenset[str] = frozenset(get_args(StopReason))
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Error kinds that refuse the request: as an SSE `error` event they stay errors, never a drop.
_REFUSALS = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
    }
)
# What reading an event the SDK cannot decode raises: data that is not JSON or not UTF-8
# (ValueError), an event of the wrong shape (a missing field, a content block that does not exist).
_MALFORMED = (
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
    AssertionError,
    httpx2.DecodingError,
    anthropic.APIResponseValidationError,
)


def _encodable(text: str) -> str:
    """`text` with each lone surrogate (UTF-8 cannot encode one) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def build_params(request: ModelRequest, *, cache: bool = True) -> dict[str, Any]:
    """The `messages.stream` keyword arguments for `request` (pure): a breakpoint after the
    system prompt and after each message the request's cache marks name (none without `cache`)."""
    marks = request.cache
    system: list[dict[str, Any]] = [{"type": "text", "text": _encodable(request.system)}]
    messages: list[dict[str, Any]] = []
    for n, msg in enumerate(request.messages):
        block: dict[str, Any] = {"type": "text", "text": _encodable(msg.content)}
        if cache and n in marks.messages:
            block["cache_control"] = dict(_EPHEMERAL)
        messages.append({"role": msg.role, "content": [block]})
    if cache and marks.system:
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


def _what_is_malformed(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"an event's data is not JSON ({exc.msg} at character {exc.pos}): {exc.doc[:80]!r}"
    if isinstance(exc, UnicodeDecodeError):
        return f"an event is not valid UTF-8 ({exc.reason} at byte {exc.start} of its line)"
    return f"an event the SDK cannot read ({type(exc).__name__}: {exc})"


def deadline_from_env(default: float = DEFAULT_DEADLINE_S) -> float:
    """AUTOPACK_REQUEST_DEADLINE_S (seconds, > 0), or `default` when it is unset or empty."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise AutopackError(f"{DEADLINE_ENV} must be a number of seconds > 0, got {raw!r}")
    return value


class _DeadlinePassed(Exception):
    """Raised from a response body read past the request's deadline; never leaves this module."""


class _DeadlineBody(httpx2.SyncByteStream):
    """A response body that raises _DeadlinePassed once `deadline` (time.monotonic) has passed,
    checked as each chunk arrives: `ping` events (which the SDK skips) cannot keep a stream open.
    Anything else (`elapsed`, the SDK's `stream_observer`) is read from the wrapped body."""

    def __init__(self, body: httpx2.SyncByteStream, deadline: float) -> None:
        self._body = body
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            if time.monotonic() >= self._deadline:
                raise _DeadlinePassed
            yield chunk

    def close(self) -> None:
        self._body.close()

    def __getattr__(self, name: str) -> Any:
        if name == "_body":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self._body, name)


@dataclass
class _Progress:
    """What one streamed response has delivered so far."""

    parts: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    stopped: bool = False
    opened: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def take(self, event: ParsedMessageStreamEvent[Any], events: MessageStream[Any]) -> str:
        """Records `event`; returns its text ("" for an event without text)."""
        if event.type == "message_start":
            self.usage = _usage(event.message.usage)
        elif event.type == "content_block_delta" and event.delta.type == "text_delta":
            self.parts.append(event.delta.text)
            return event.delta.text
        elif event.type == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self.usage = _usage(events.current_message_snapshot.usage)
        elif event.type == "message_stop":
            self.stopped = True
        return ""

    def cut(self, why: str, detail: object = "") -> ModelConnectionError:
        """The stream was cut short after it opened: continued by the builder like a drop. The
        text that arrived was generated (and billed) but its final usage never came: its output
        tokens are counted from its length (high: CHARS_PER_OUTPUT_TOKEN), never as the
        placeholder `message_start` carries."""
        text = self.text
        said = f": {detail}" if str(detail) else ""
        counted = math.ceil(len(text) / CHARS_PER_OUTPUT_TOKEN)
        usage = self.usage.model_copy(
            update={"output_tokens": max(self.usage.output_tokens, counted)}
        )
        return ModelConnectionError(
            f"{why} after {len(text)} characters of output{said}", partial_text=text, usage=usage
        )


def _texts(events: MessageStream[Any], progress: _Progress) -> Iterator[str]:
    """The text of each event; an event the SDK cannot read ends the stream as a drop. The caller's
    own errors (raised while it handles a yielded text) never pass through here."""
    iterator = iter(events)
    while True:
        try:
            event = next(iterator, None)
            if event is None:
                return
            text = progress.take(event, events)
        except _MALFORMED as exc:
            raise progress.cut("the stream was malformed", _what_is_malformed(exc)) from exc
        if text:
            yield text


def _error_event(exc: anthropic.APIStatusError, progress: _Progress) -> ModelError:
    """An SSE `error` event in an open stream: a drop, unless it refuses the request."""
    kind = exc.type or "error"
    if kind in _REFUSALS:
        return map_status_error(exc, progress.text)
    detail = exc.api_message or exc.message
    return progress.cut(f"the stream was cut by an error event ({kind}: {detail})")


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
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        if not api_key:
            raise ModelRequestError("no Anthropic API key: set ANTHROPIC_API_KEY")
        if not deadline_s > 0:
            raise AutopackError(f"the request deadline must be > 0 seconds, got {deadline_s!r}")
        self.cache = cache
        self.deadline_s = deadline_s
        self._framing: dict[str, int] = {}  # model -> tokens of an empty user message
        self.client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,  # None: the SDK reads ANTHROPIC_BASE_URL, else the public API
            max_retries=max_retries,
            # A read that waits past the deadline would hold a silent stream open beyond it.
            timeout=httpx2.Timeout(min(timeout_s, deadline_s), connect=min(10.0, deadline_s)),
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
        return cls(
            api_key=key,
            max_retries=max_retries,
            timeout_s=timeout_s,
            deadline_s=deadline_from_env(),
        )

    def close(self) -> None:
        """Close the HTTP connections (a run's client lives as long as the process)."""
        self.client.close()

    def count_tokens(self, model: str, texts: Sequence[str]) -> list[int] | None:
        """Input tokens of each text sent as one user message, from the free token-counting
        endpoint, less the message's framing (measured once per model on a one-token text);
        None when the endpoint cannot answer (the caller estimates offline). No retries: an
        estimate is better than a wait."""
        try:
            if model not in self._framing:
                self._framing[model] = self._count(model, ".") - 1
            framing = self._framing[model]
            return [max(0, self._count(model, t) - framing) if t else 0 for t in texts]
        except (anthropic.APIError, httpx2.HTTPError, ValueError, TypeError, AttributeError):
            return None

    def _count(self, model: str, text: str) -> int:
        counting = self.client.with_options(max_retries=0, timeout=min(30.0, self.deadline_s))
        result = counting.messages.count_tokens(
            model=model, messages=[{"role": "user", "content": _encodable(text)}]
        )
        return int(result.input_tokens)

    def _deadline_passed(self) -> str:
        return f"the request passed its deadline of {self.deadline_s:g} s ({DEADLINE_ENV})"

    def stream(self, request: ModelRequest, on_text: TextSink) -> ModelResponse:
        params = build_params(request, cache=self.cache)
        progress = _Progress()
        started = time.monotonic()
        try:
            with self.client.messages.stream(**params) as events:
                progress.opened = True
                body = events.response.stream
                if isinstance(body, httpx2.SyncByteStream):
                    events.response.stream = _DeadlineBody(body, started + self.deadline_s)
                for text in _texts(events, progress):
                    on_text(text)
        except anthropic.APIStatusError as exc:
            if progress.opened:  # an SSE `error` event: the HTTP status was 200
                raise _error_event(exc, progress) from exc
            raise map_status_error(exc, progress.text) from exc
        except _DeadlinePassed as exc:
            raise progress.cut(self._deadline_passed()) from exc
        except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
            # SDKs from 2.15 on wrap whatever a body read raises in APIConnectionError.
            if isinstance(exc.__cause__, _DeadlinePassed):
                raise progress.cut(self._deadline_passed()) from exc
            raise self._connection_error(exc, progress, started) from exc
        return self._response(progress, started)

    def _connection_error(
        self, exc: Exception, progress: _Progress, started: float
    ) -> ModelConnectionError:
        timeout = isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException)
        # The read timeout is capped at the deadline: a timeout past it is the deadline's doing.
        late = timeout and time.monotonic() - started >= self.deadline_s
        if not progress.opened:
            what = "timed out" if timeout else "connection failed"
            return ModelConnectionError(
                f"cannot reach the API at {self.client.base_url} "
                f"({self._deadline_passed() if late else what}): {exc}",
                mid_stream=False,
            )
        if late:
            return progress.cut(self._deadline_passed())
        return progress.cut(f"the connection {'timed out' if timeout else 'dropped'}", exc)

    def _response(self, progress: _Progress, started: float) -> ModelResponse:
        text, stop_reason = progress.text, progress.stop_reason
        if stop_reason is not None and stop_reason not in STOP_REASONS:
            raise ServerError(f"the API returned an unknown stop_reason {stop_reason!r}")
        if not progress.stopped or stop_reason is None:
            raise progress.cut("the stream ended without message_stop")
        return ModelResponse(
            text=text,
            stop_reason=stop_reason,
            usage=progress.usage,
            elapsed_s=round(time.monotonic() - started, 3),
        )
