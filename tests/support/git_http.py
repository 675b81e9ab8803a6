"""A local git smart-HTTP server: `git http-backend`, run as a CGI program once per request, serves
the bare repositories under a folder (fetch and push), behind HTTP Basic authentication as GitHub
asks of an Actions token: `Authorization: Basic base64("x-access-token:<token>")` on every request,
else 401 with `WWW-Authenticate`. Every request is recorded (method, path, Authorization header,
status) so tests can see what git sent.

    with GitHttpServer(tmp_path, token) as srv:
        url = srv.url("origin.git")  # http://127.0.0.1:<port>/origin.git
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

REALM = 'Basic realm="x"'


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # with the query, e.g. /origin.git/info/refs?service=git-upload-pack
    authorization: str  # "" when the request had none; ", "-joined when it had several
    status: int


def basic(token: str) -> str:
    """The credentials part of the header git must send: base64("x-access-token:<token>")."""
    return base64.b64encode(f"x-access-token:{token}".encode()).decode()


class GitHttpServer:
    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.token = token
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                out = bytearray()  # curl chunks a POST larger than http.postBuffer
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    out += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(out)

            def _serve(self) -> None:
                body = self._body()
                auth = ", ".join(self.headers.get_all("Authorization") or [])  # all of them
                scheme, _, credentials = auth.partition(" ")
                if scheme.lower() != "basic" or credentials.strip() != basic(server.token):
                    status, headers, data = 401, [("WWW-Authenticate", REALM)], b"unauthorized\n"
                else:
                    status, headers, data = server.backend(self, body)
                with server.lock:
                    server.seen.append(Seen(self.command, self.path, auth, status))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, repo: str) -> str:
        return f"{self.base}/{repo}"

    def backend(
        self, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Run `git http-backend` for one request; its CGI reply as (status, headers, body)."""
        url = urlsplit(request.path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env |= {
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": request.command,
            "PATH_INFO": unquote(url.path),
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "x-access-token",  # authenticated: receive-pack (push) is enabled
            "REMOTE_ADDR": request.client_address[0],
        }
        for header in ("Content-Encoding", "Git-Protocol"):  # gzip bodies; protocol v2
            if value := request.headers.get(header):
                env["HTTP_" + header.upper().replace("-", "_")] = value
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
        )
        head, sep, data = out.stdout.partition(b"\r\n\r\n")
        if not sep:
            return 500, [("Content-Type", "text/plain")], out.stderr or b"no CGI reply\n"
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name.strip(), value.strip()))
        return status, headers, data

    def __enter__(self) -> GitHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
