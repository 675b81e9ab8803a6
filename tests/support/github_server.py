"""A local, stateful HTTP server speaking the subset of the GitHub REST API (and the one GraphQL
mutation) that Autopack uses, so tests drive the real PyGithub against it.

State lives in memory; git refs and PR heads are read live from a real bare repository (the
checkout's `origin`), so a push moves a PR's head exactly as on GitHub. Time is a counter that
advances one second per write, so "labelled after the request comment" is deterministic.

Endpoints (prefix /api/v3): GET /user (403, as for an Actions token), GET /repos/{o}/{r},
GET git/ref/heads/{branch}, GET commits/{sha}, GET commits/{sha}/check-runs, pulls (list, get,
create, edit), issues (get), issue comments (list, create, edit), issue labels (list, add, remove),
issue events, collaborator permission, check runs (create, update, get), repository labels (list,
create: 422 `already_exists` for a name taken in any case), POST /api/graphql
(markPullRequestReadyForReview). Adding a label to an issue creates it in the repository when
missing, as GitHub does.

Faults: `state.fail_once(method, pattern)` answers the next matching request with a 502 (GitHub's
"Server Error"); with `after=True` the request takes effect first, as when GitHub did the work but
the reply was lost on the way back.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

CHECK_TEXT_LIMIT = 65_535
MAX_ANNOTATIONS = 50
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class HttpError(Exception):
    def __init__(
        self, status: int, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class User:
    login: str
    role: str = "read"  # admin | maintain | write | triage | read | none
    type: str = "User"  # User | Bot


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class Fault:
    method: str
    pattern: str  # re.search over the request path
    status: int = 502
    after: bool = False  # True: the request takes effect, then the reply is the error anyway


@dataclass
class GitHubState:
    owner: str
    name: str
    origin: Path
    token: str
    token_user: User = field(default_factory=lambda: User("github-actions[bot]", "write", "Bot"))
    default_branch: str = "main"
    user_readable: bool = False  # GET /user: 403 as for an Actions token, or the token's user (PAT)
    users: dict[str, User] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # the repository's, by name
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    clock: int = 0
    next_id: int = 1000

    # -- helpers used by tests ---------------------------------------------------------------
    def tick(self) -> str:
        self.clock += 1
        return (EPOCH + timedelta(seconds=self.clock)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def add_user(self, login: str, role: str = "write", type_: str = "User") -> User:
        user = User(login, role, type_)
        self.users[login] = user
        return user

    def create_issue(self, title: str, body: str, author: str = "reporter") -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": body,
            "user": author,
            "labels": [],
            "state": "open",
            "pull": None,
            "created_at": self.tick(),
        }
        self.events[number] = []
        return number

    def add_label(self, number: int, label: str, login: str) -> dict[str, Any]:
        """A person adds a label: the label, and a `labeled` event with them as the actor."""
        issue = self._issue(number)
        if label not in issue["labels"]:
            issue["labels"].append(label)
        self.create_label(label)
        event = {
            "id": self.new_id(),
            "event": "labeled",
            "actor": login,
            "label": label,
            "created_at": self.tick(),
        }
        self.events[number].append(event)
        return event

    def create_label(self, name: str, color: str = "ededed", description: str = "") -> bool:
        """A repository label (names are case-insensitive); False when it exists already."""
        if any(existing.lower() == name.lower() for existing in self.labels):
            return False
        self.labels[name] = {"name": name, "color": color, "description": description}
        return True

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == number]

    def pulls(self) -> list[dict[str, Any]]:
        return [i for i in self.issues.values() if i["pull"] is not None]

    def writes(self, method: str, pattern: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def fail_once(
        self, method: str, pattern: str, *, status: int = 502, after: bool = False
    ) -> None:
        """The next `method` request whose path matches `pattern` gets `status` (see Fault)."""
        self.faults.append(Fault(method, pattern, status, after))

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and re.search(fault.pattern, path):
                self.faults.remove(fault)
                return fault
        return None

    # -- git --------------------------------------------------------------------------------
    def ref_sha(self, branch: str) -> str | None:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"refs/heads/{branch}^{{commit}}"],
            cwd=self.origin,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() or None

    def ahead(self, base: str, head: str) -> int:
        out = subprocess.run(
            ["git", "rev-list", "--count", f"refs/heads/{base}..refs/heads/{head}"],
            cwd=self.origin,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip())

    def _issue(self, number: int) -> dict[str, Any]:
        if number not in self.issues:
            raise HttpError(404, "Not Found")
        return self.issues[number]


class _Api:
    """Request routing and JSON rendering over a GitHubState."""

    def __init__(self, state: GitHubState, base: str) -> None:
        self.s = state
        self.base = base  # http://127.0.0.1:PORT
        self.api = f"{base}/api/v3"
        self.repo_url = f"{self.api}/repos/{state.owner}/{state.name}"
        self.html = f"{base}/{state.owner}/{state.name}"

    # -- rendering --------------------------------------------------------------------------
    def user(self, login: str) -> dict[str, Any]:
        known = self.s.users.get(login) or (
            self.s.token_user if login == self.s.token_user.login else User(login)
        )
        return {
            "login": login,
            "id": abs(hash(login)) % 10_000_000,
            "type": known.type,
            "url": f"{self.api}/users/{login}",
        }

    def label(self, name: str) -> dict[str, Any]:
        known = self.s.labels.get(name, {})
        return {
            "name": name,
            "color": known.get("color", "ededed"),
            "description": known.get("description", ""),
            "url": f"{self.repo_url}/labels/{name}",
        }

    def issue(self, i: dict[str, Any]) -> dict[str, Any]:
        out = {
            "number": i["number"],
            "id": i["number"] * 7,
            "title": i["title"],
            "body": i["body"],
            "state": i["state"],
            "user": self.user(i["user"]),
            "labels": [self.label(n) for n in i["labels"]],
            "url": f"{self.repo_url}/issues/{i['number']}",
            "html_url": f"{self.html}/issues/{i['number']}",
            "created_at": i["created_at"],
        }
        if i["pull"] is not None:
            out["pull_request"] = {"url": f"{self.repo_url}/pulls/{i['number']}"}
        return out

    def pull(self, i: dict[str, Any]) -> dict[str, Any]:
        p = i["pull"]
        head_sha = self.s.ref_sha(p["head"]) or p["head_sha"]
        return {
            "number": i["number"],
            "id": i["number"] * 11,
            "node_id": f"PR_{i['number']}",
            "title": i["title"],
            "body": i["body"],
            "state": i["state"],
            "draft": p["draft"],
            "user": self.user(i["user"]),
            "labels": [self.label(n) for n in i["labels"]],
            "head": {"ref": p["head"], "sha": head_sha, "label": f"{self.s.owner}:{p['head']}"},
            "base": {"ref": p["base"], "sha": self.s.ref_sha(p["base"]) or ""},
            "url": f"{self.repo_url}/pulls/{i['number']}",
            "issue_url": f"{self.repo_url}/issues/{i['number']}",
            "html_url": f"{self.html}/pull/{i['number']}",
            "created_at": i["created_at"],
        }

    def comment(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "body": c["body"],
            "user": self.user(c["user"]),
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
            "url": f"{self.repo_url}/issues/comments/{c['id']}",
            "html_url": f"{self.html}/issues/{c['issue']}#issuecomment-{c['id']}",
            "issue_url": f"{self.repo_url}/issues/{c['issue']}",
        }

    def check(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "name": c["name"],
            "head_sha": c["head_sha"],
            "status": c["status"],
            "conclusion": c["conclusion"],
            "output": {**c["output"], "annotations_count": len(c["annotations"])},
            "url": f"{self.repo_url}/check-runs/{c['id']}",
            "html_url": f"{self.html}/runs/{c['id']}",
        }

    # -- routing ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        s = self.s
        if path == "/api/graphql" and method == "POST":
            return self.graphql(body)
        if path == "/api/v3/user":
            if not s.user_readable:
                raise HttpError(403, "Resource not accessible by integration")
            return 200, self.user(s.token_user.login)
        prefix = f"/api/v3/repos/{s.owner}/{s.name}"
        if not path.startswith(prefix):
            raise HttpError(404, "Not Found")
        rest = path[len(prefix) :]
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"", self.get_repo),
            ("GET", r"/git/ref/heads/(?P<branch>.+)", self.get_ref),
            ("GET", r"/commits/(?P<sha>[0-9a-f]{40})", self.get_commit),
            ("GET", r"/commits/(?P<sha>[0-9a-f]{40})/check-runs", self.list_checks),
            ("GET", r"/pulls", self.list_pulls),
            ("POST", r"/pulls", self.create_pull),
            ("GET", r"/pulls/(?P<n>\d+)", self.get_pull),
            ("PATCH", r"/pulls/(?P<n>\d+)", self.edit_pull),
            ("GET", r"/issues/(?P<n>\d+)", self.get_issue),
            ("GET", r"/issues/(?P<n>\d+)/comments", self.list_comments),
            ("POST", r"/issues/(?P<n>\d+)/comments", self.create_comment),
            ("PATCH", r"/issues/comments/(?P<id>\d+)", self.edit_comment),
            ("GET", r"/issues/(?P<n>\d+)/labels", self.list_labels),
            ("POST", r"/issues/(?P<n>\d+)/labels", self.add_labels),
            ("DELETE", r"/issues/(?P<n>\d+)/labels/(?P<label>.+)", self.remove_label),
            ("GET", r"/issues/(?P<n>\d+)/events", self.list_events),
            ("GET", r"/collaborators/(?P<user>[^/]+)/permission", self.permission),
            ("GET", r"/labels", self.list_repo_labels),
            ("POST", r"/labels", self.create_repo_label),
            ("POST", r"/check-runs", self.create_check),
            ("PATCH", r"/check-runs/(?P<id>\d+)", self.update_check),
            ("GET", r"/check-runs/(?P<id>\d+)", self.get_check),
        ]
        for verb, pattern, fn in routes:
            m = re.fullmatch(pattern, rest)
            if m and verb == method:
                args = {k: unquote(v) for k, v in m.groupdict().items()}
                result: tuple[int, Any] = fn(query=query, body=body, **args)
                return result
        raise HttpError(404, "Not Found")

    def get_repo(self, **_: Any) -> tuple[int, Any]:
        s = self.s
        return 200, {
            "id": 1,
            "name": s.name,
            "full_name": f"{s.owner}/{s.name}",
            "owner": self.user(s.owner),
            "default_branch": s.default_branch,
            "url": self.repo_url,
            "html_url": self.html,
        }

    def get_ref(self, branch: str, **_: Any) -> tuple[int, Any]:
        sha = self.s.ref_sha(branch)
        if sha is None:
            raise HttpError(404, "Not Found")
        return 200, {
            "ref": f"refs/heads/{branch}",
            "url": f"{self.repo_url}/git/refs/heads/{branch}",
            "object": {"sha": sha, "type": "commit"},
        }

    def get_commit(self, sha: str, **_: Any) -> tuple[int, Any]:
        return 200, {"sha": sha, "url": f"{self.repo_url}/commits/{sha}"}

    def list_checks(self, sha: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        runs = [
            self.check(c)
            for c in self.s.check_runs.values()
            if c["head_sha"] == sha and query.get("check_name") in (None, c["name"])
        ]
        return 200, {"total_count": len(runs), "check_runs": runs}

    def list_pulls(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        out = []
        for i in self.s.pulls():
            p = i["pull"]
            if query.get("state", "open") not in ("all", i["state"]):
                continue
            if "head" in query and query["head"] != f"{self.s.owner}:{p['head']}":
                continue
            if "base" in query and query["base"] != p["base"]:
                continue
            out.append(self.pull(i))
        return 200, out

    def create_pull(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        s = self.s
        head, base = body["head"].split(":")[-1], body["base"]
        head_sha = s.ref_sha(head)
        if head_sha is None or s.ref_sha(base) is None:
            field = "head" if head_sha is None else "base"
            invalid = {"resource": "PullRequest", "field": field, "code": "invalid"}
            raise HttpError(422, "Validation Failed", [invalid])
        if s.ahead(base, head) == 0:
            custom = {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"No commits between {base} and {head}",
            }
            raise HttpError(422, "Validation Failed", [custom])
        if any(i["pull"]["head"] == head and i["state"] == "open" for i in s.pulls()):
            raise HttpError(422, f"Validation Failed: A pull request already exists for {head}")
        number = s.create_issue(body["title"], body.get("body") or "", s.token_user.login)
        s.issues[number]["pull"] = {
            "head": head,
            "base": base,
            "draft": bool(body.get("draft")),
            "head_sha": head_sha,
        }
        return 201, self.pull(s.issues[number])

    def _pull(self, n: str) -> dict[str, Any]:
        i = self.s._issue(int(n))
        if i["pull"] is None:
            raise HttpError(404, "Not Found")
        return i

    def get_pull(self, n: str, **_: Any) -> tuple[int, Any]:
        return 200, self.pull(self._pull(n))

    def edit_pull(self, n: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        i = self._pull(n)
        for key in ("title", "body", "state"):
            if key in body:
                i[key] = body[key]
        return 200, self.pull(i)

    def get_issue(self, n: str, **_: Any) -> tuple[int, Any]:
        return 200, self.issue(self.s._issue(int(n)))

    def list_comments(self, n: str, **_: Any) -> tuple[int, Any]:
        self.s._issue(int(n))
        return 200, [self.comment(c) for c in self.s.comments_on(int(n))]

    def create_comment(self, n: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        s = self.s
        s._issue(int(n))
        text = body.get("body") or ""
        if len(text) > CHECK_TEXT_LIMIT:
            raise HttpError(
                422, "Validation Failed: body is too long (maximum is 65536 characters)"
            )
        now = s.tick()
        cid = s.new_id()
        s.comments[cid] = {
            "id": cid,
            "issue": int(n),
            "body": text,
            "user": s.token_user.login,
            "created_at": now,
            "updated_at": now,
        }
        return 201, self.comment(s.comments[cid])

    def edit_comment(self, id: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        c = self.s.comments.get(int(id))
        if c is None:
            raise HttpError(404, "Not Found")
        if c["user"] != self.s.token_user.login:
            raise HttpError(403, "Must have admin rights to Repository.")
        c["body"], c["updated_at"] = body.get("body") or "", self.s.tick()
        return 200, self.comment(c)

    def list_labels(self, n: str, **_: Any) -> tuple[int, Any]:
        return 200, [self.label(x) for x in self.s._issue(int(n))["labels"]]

    def add_labels(self, n: str, body: Any, **_: Any) -> tuple[int, Any]:
        names = body.get("labels", []) if isinstance(body, dict) else body
        for name in names:
            self.s.add_label(int(n), name, self.s.token_user.login)
        return 200, [self.label(x) for x in self.s._issue(int(n))["labels"]]

    def remove_label(self, n: str, label: str, **_: Any) -> tuple[int, Any]:
        s = self.s
        i = s._issue(int(n))
        if label not in i["labels"]:
            raise HttpError(404, "Label does not exist")
        i["labels"].remove(label)
        s.events[int(n)].append(
            {
                "id": s.new_id(),
                "event": "unlabeled",
                "actor": s.token_user.login,
                "label": label,
                "created_at": s.tick(),
            }
        )
        return 200, [self.label(x) for x in i["labels"]]

    def list_repo_labels(self, **_: Any) -> tuple[int, Any]:
        return 200, [self.label(name) for name in self.s.labels]

    def create_repo_label(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        name = str(body.get("name") or "")
        color = str(body.get("color") or "")
        if not name or not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise HttpError(422, "Validation Failed", [{"resource": "Label", "code": "invalid"}])
        if not self.s.create_label(name, color, str(body.get("description") or "")):
            exists = {"resource": "Label", "code": "already_exists", "field": "name"}
            raise HttpError(422, "Validation Failed", [exists])
        return 201, self.label(name)

    def list_events(self, n: str, **_: Any) -> tuple[int, Any]:
        self.s._issue(int(n))
        return 200, [
            {
                "id": e["id"],
                "event": e["event"],
                "actor": self.user(e["actor"]),
                "label": {"name": e["label"], "color": "ededed"},
                "created_at": e["created_at"],
                "url": f"{self.repo_url}/issues/events/{e['id']}",
            }
            for e in self.s.events[int(n)]
        ]

    def permission(self, user: str, **_: Any) -> tuple[int, Any]:
        u = self.s.users.get(user)
        if u is None:
            raise HttpError(404, f"{user} is not a user")
        legacy = {"maintain": "write", "triage": "read"}.get(u.role, u.role)
        return 200, {"permission": legacy, "role_name": u.role, "user": self.user(user)}

    def _check_output(self, c: dict[str, Any], output: dict[str, Any] | None) -> None:
        if not output:
            return
        for key in ("summary", "text"):
            if len(output.get(key) or "") > CHECK_TEXT_LIMIT:
                raise HttpError(422, f"Validation Failed: output.{key} is too long")
        annotations = output.get("annotations") or []
        if len(annotations) > MAX_ANNOTATIONS:
            raise HttpError(422, "Validation Failed: at most 50 annotations per request")
        c["output"] = {k: output.get(k) for k in ("title", "summary", "text")}
        c["annotations"].extend(annotations)  # updates append, as on GitHub

    def create_check(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        s = self.s
        if not re.fullmatch(r"[0-9a-f]{40}", body.get("head_sha", "")):
            raise HttpError(422, "Validation Failed: head_sha")
        cid = s.new_id()
        c = {
            "id": cid,
            "name": body["name"],
            "head_sha": body["head_sha"],
            "status": body.get("status", "queued"),
            "conclusion": body.get("conclusion"),
            "output": {"title": None, "summary": None, "text": None},
            "annotations": [],
        }
        self._check_output(c, body.get("output"))
        s.check_runs[cid] = c
        return 201, self.check(c)

    def update_check(self, id: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        c = self.s.check_runs.get(int(id))
        if c is None:
            raise HttpError(404, "Not Found")
        for key in ("status", "conclusion", "name"):
            if key in body:
                c[key] = body[key]
        self._check_output(c, body.get("output"))
        return 200, self.check(c)

    def get_check(self, id: str, **_: Any) -> tuple[int, Any]:
        c = self.s.check_runs.get(int(id))
        if c is None:
            raise HttpError(404, "Not Found")
        return 200, self.check(c)

    def graphql(self, body: dict[str, Any]) -> tuple[int, Any]:
        query = body.get("query", "")
        if "markPullRequestReadyForReview" not in query:
            return 200, {"errors": [{"message": "unsupported query in the test server"}]}
        node = body["variables"]["input"]["pullRequestId"]
        i = self._pull(node.removeprefix("PR_"))
        i["pull"]["draft"] = False
        return 200, {
            "data": {
                "markPullRequestReadyForReview": {
                    "clientMutationId": None,
                    "pullRequest": {"isDraft": False},
                }
            }
        }


class GitHubServer:
    """Run with `with GitHubServer(state) as gh:`; `gh.base_url` is PyGithub's base_url."""

    def __init__(self, state: GitHubState) -> None:
        self.state = state
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                    auth = self.headers.get("Authorization", "")
                    if auth.split(" ")[-1] != server.state.token:
                        raise HttpError(401, "Bad credentials")
                    with server.lock:
                        server.state.requests.append(Request(self.command, url.path, body))
                        fault = server.state.take_fault(self.command, url.path)
                        if fault is not None and not fault.after:
                            raise HttpError(fault.status, "Server Error")
                        status, payload = server.api.handle(self.command, url.path, query, body)
                        if fault is not None:
                            raise HttpError(fault.status, "Server Error")
                except HttpError as exc:
                    status, payload = exc.status, {"message": exc.message}
                    if exc.errors:
                        payload["errors"] = exc.errors
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.api = _Api(state, self.base)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"{self.base}/api/v3"

    def __enter__(self) -> GitHubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
