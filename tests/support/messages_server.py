"""A local HTTP server speaking the Anthropic Messages API, for tests that drive the real SDK.

POST /v1/messages with `stream: true` is answered with real SSE events (message_start,
content_block_start, content_block_delta/text_delta, content_block_stop, message_delta with
stop_reason and usage, message_stop), sent with chunked transfer encoding. Each request is answered by
the next scripted `Reply` (or by a `responder` callable): text, stop_reason, usage, an error status
(429/529/500/...) with headers such as retry-after, a connection dropped after N characters, an SSE
`error` event, raw (malformed) SSE bytes, or `ping` events sent forever after the text.

Usage is computed like the API does when not scripted: output tokens = ceil(chars / 4) of the text
actually sent, and input tokens ceil(chars / 4) per content block. Prompt caching follows Anthropic's
rules: a prefix ending at a `cache_control` breakpoint is cached when it holds at least
`cache_min_tokens` (1,024) tokens; a request reads the longest cached prefix that ends at one of its
breakpoints or up to 20 blocks before one (`cache_read_input_tokens`), writes the rest up to its last
cacheable breakpoint (`cache_creation_input_tokens`) and pays plain input for what follows.
POST /v1/messages/count_tokens answers `{"input_tokens": N}` (the same count, plus 4 per message for
the framing) without using a scripted reply; `count_status` makes it fail with that status instead.

Every request is recorded (`server.requests`: headers + JSON body), so tests assert on the
conversation. Each response closes its connection (`connection: close`), so clients keep no pooled
socket open after a test. Run standalone with `python tests/support/messages_server.py SCRIPT.json`
(a JSON list of replies); it prints its base URL and serves until interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHARS_PER_TOKEN = 4


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass
class Reply:
    text: str = ""
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None  # overrides the computed usage when given
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str = ""  # for error replies; derived from status when empty
    drop_after: int | None = None  # close the connection after this many characters of text
    stall_after: int | None = None  # pause `stall_s` seconds after this many characters
    stall_s: float = 0.0
    sse_error: str = ""  # send an SSE `error` event of this type after the text (mid-stream)
    # Sent verbatim after the text, then the response ends: malformed events. Encoded as UTF-8 with
    # surrogateescape, so "\udcff" sends the (invalid UTF-8) byte 0xff.
    raw_sse: str = ""
    ping_every: float = 0.0  # after the text, a `ping` event every this many seconds, forever
    chunk_chars: int = 23  # characters per text_delta event

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(**data)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        msgs: list[dict[str, Any]] = self.body.get("messages", [])
        return msgs

    def message_text(self, index: int) -> str:
        content = self.messages[index]["content"]
        if isinstance(content, str):
            return content
        return "".join(block.get("text", "") for block in content)


Responder = Callable[[Recorded], Reply]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


CACHE_LOOKBACK_BLOCKS = 20
FRAMING_TOKENS = 4  # per message, in count_tokens


def _blocks(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """(text, has a breakpoint) of every content block, system first, in prompt order."""
    parts: list[tuple[str, bool]] = []
    system = body.get("system", "")
    if isinstance(system, str):
        parts.append((system, False))
    else:
        parts += [(b.get("text", ""), "cache_control" in b) for b in system]
    for msg in body.get("messages", []):
        content = msg.get("content", "")
        if isinstance(content, str):
            parts.append((content, False))
        else:
            parts += [(b.get("text", ""), "cache_control" in b) for b in content]
    return parts


class MessagesServer:
    def __init__(
        self,
        replies: list[Reply] | None = None,
        responder: Responder | None = None,
        cache_min_tokens: int = 1024,
    ) -> None:
        self.replies: list[Reply] = list(replies or [])
        self.cache_min_tokens = cache_min_tokens
        self.count_status = 200
        self.responder = responder
        self.requests: list[Recorded] = []
        self.cache: set[str] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # ends stalls and endless pings when the server stops
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def start(self) -> MessagesServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> MessagesServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def message_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]

    @property
    def count_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/v1/messages/count_tokens")]

    def next_reply(self, rec: Recorded) -> Reply:
        with self.lock:
            self.requests.append(rec)
            if self.replies:
                return self.replies.pop(0)
        if self.responder is not None:
            return self.responder(rec)
        return Reply(status=500, error_type="api_error", text="the test server has no reply left")

    def usage_for(self, body: dict[str, Any], sent: str) -> dict[str, int]:
        blocks = _blocks(body)
        cum, keys, total, digest = [], [], 0, hashlib.sha256(str(body.get("model")).encode())
        for text, _ in blocks:
            total += tokens(text)
            digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
            cum.append(total)
            keys.append(digest.hexdigest())
        breakpoints = [j for j, (_, bp) in enumerate(blocks) if bp]
        with self.lock:
            read_at = -1
            for bp in breakpoints:
                for j in range(bp, max(-1, bp - CACHE_LOOKBACK_BLOCKS - 1), -1):
                    if keys[j] in self.cache:
                        read_at = max(read_at, j)
                        break
            written_to = read_at
            for bp in breakpoints:
                if cum[bp] >= self.cache_min_tokens:
                    self.cache.add(keys[bp])
                    written_to = max(written_to, bp)
        read = cum[read_at] if read_at >= 0 else 0
        write = cum[written_to] - read if written_to > read_at else 0
        return {
            "input_tokens": total - read - write,
            "output_tokens": tokens(sent),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }

    def count_for(self, body: dict[str, Any]) -> int:
        framing = FRAMING_TOKENS * len(body.get("messages", []))
        return sum(tokens(text) for text, _ in _blocks(body)) + framing


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _handler_for(server: MessagesServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def send_response(self, code: int, message: str | None = None) -> None:
            # One request per connection: the client closes its socket after each response, so
            # no test leaves a pooled connection open for the garbage collector to warn about.
            super().send_response(code, message)
            self.send_header("connection", "close")
            self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            rec = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            if self.path.startswith("/v1/messages/count_tokens"):
                self._count(rec)
                return
            reply = server.next_reply(rec)
            if reply.status != 200:
                self._error(reply)
                return
            try:
                self._stream(body, reply)
            except (BrokenPipeError, ConnectionResetError):  # the client went away (cancelled)
                self.close_connection = True

        def _count(self, rec: Recorded) -> None:
            with server.lock:
                server.requests.append(rec)
            if server.count_status != 200:
                self._error(Reply(status=server.count_status))
                return
            data = json.dumps({"input_tokens": server.count_for(rec.body)}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, reply: Reply) -> None:
            kind = reply.error_type or _ERROR_TYPES.get(reply.status, "api_error")
            data = json.dumps(
                {"type": "error", "error": {"type": kind, "message": reply.text or kind}}
            ).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _stream(self, body: dict[str, Any], reply: Reply) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("request-id", f"req_{len(server.requests)}")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            text = reply.text if reply.drop_after is None else reply.text[: reply.drop_after]
            usage = reply.usage or server.usage_for(body, text)
            start_usage = {**usage, "output_tokens": 1}
            model = body.get("model", "claude-test")
            self._chunk(
                _sse(
                    "message_start",
                    {
                        "type": "message_start",
                        "message": {
                            "id": f"msg_{len(server.requests)}",
                            "type": "message",
                            "role": "assistant",
                            "model": model,
                            "content": [],
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": start_usage,
                        },
                    },
                )
            )
            self._chunk(
                _sse(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            self._chunk(_sse("ping", {"type": "ping"}))
            step = max(1, reply.chunk_chars)
            for i in range(0, len(text), step):
                if reply.stall_after is not None and i >= reply.stall_after:
                    server.stopping.wait(reply.stall_s)
                    reply.stall_after = None
                delta = {"type": "text_delta", "text": text[i : i + step]}
                self._chunk(
                    _sse(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": delta},
                    )
                )
            if reply.drop_after is not None:
                # Drop the connection mid-stream: no terminating chunk, no message_stop.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.raw_sse or reply.ping_every:
                self._raw_tail(reply)
                return
            if reply.sse_error:
                error = {"type": reply.sse_error, "message": reply.sse_error.replace("_", " ")}
                self._chunk(_sse("error", {"type": "error", "error": error}))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            self._chunk(_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
            self._chunk(
                _sse(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                        "usage": usage,
                    },
                )
            )
            self._chunk(_sse("message_stop", {"type": "message_stop"}))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _raw_tail(self, reply: Reply) -> None:
            """Raw SSE bytes, then pings until the client goes away or the server stops."""
            try:
                if reply.raw_sse:
                    self._chunk(reply.raw_sse.encode("utf-8", "surrogateescape"))
                while reply.ping_every and not server.stopping.wait(reply.ping_every):
                    self._chunk(_sse("ping", {"type": "ping"}))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:  # the client closed the connection
                self.close_connection = True

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", help="JSON file: a list of replies (fields of Reply)")
    parser.add_argument("--log", help="write the recorded requests here (JSON lines) as they come")
    args = parser.parse_args(argv)
    with open(args.script, encoding="utf-8") as fh:
        replies = [Reply.from_dict(r) for r in json.load(fh)]
    server = MessagesServer(replies)
    if args.log:
        original = server.next_reply

        def logged(rec: Recorded) -> Reply:
            with open(args.log, "a", encoding="utf-8") as log:
                log.write(json.dumps({"path": rec.path, "body": rec.body}) + "\n")
            return original(rec)

        server.next_reply = logged  # type: ignore[method-assign]
    print(server.base_url, flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
