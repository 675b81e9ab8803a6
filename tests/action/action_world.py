"""The world of the action's end-to-end tests: a bare origin and a fresh checkout per run (as
actions/checkout gives), the local GitHub server (driven through PyGithub), the local Messages API
server (driven through the anthropic SDK), and `autopack action` run with the environment GitHub
sets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from autopack.cli import main
from autopack.demo import scenario
from support.github_server import GitHubServer, GitHubState, User
from support.messages_server import MessagesServer, Recorded, Reply

TOKEN = "ghs_e2e_secret_token"
API_KEY = "sk-ant-e2e-secret"
_PHASE = re.compile(r"# Phase `([a-z0-9-]+)`")

OWNERS_OPS = [
    {"op": "write", "path": "CODEOWNERS", "content": "* @acme/maintainers\n"},
    {"op": "manifest", "files": [{"path": "CODEOWNERS", "symbols": []}]},
    {"op": "done", "summary": "Added a CODEOWNERS file."},
]
BROKEN_OPS = [
    {
        "op": "write",
        "path": "tests/test_broken.py",
        "content": "def test_broken():\n    assert 1 + 1 == 3\n",
    },
    {"op": "manifest", "files": [{"path": "tests/test_broken.py", "symbols": ["test_broken"]}]},
    {"op": "done", "summary": "Added a test."},
]
BREAK_ADD_OPS = [
    {"op": "edit", "path": "src/calc/ops.py", "old": "return a + b", "new": "return a - b"},
    {"op": "done", "summary": "Changed add."},
]
LEAKY_OPS = [
    {
        "op": "write",
        "path": "tests/test_leaky.py",
        "content": (
            "import os\n\n\ndef test_leaky():\n"
            "    found = {k: v for k, v in os.environ.items() if 'TOKEN' in k or 'KEY' in k}\n"
            "    assert False, found\n"
        ),
    },
    {"op": "done", "summary": "Added a test."},
]
PLANT_OPS = [
    {
        "op": "write",
        "path": "conftest.py",
        "content": (
            "import os\nfrom pathlib import Path\n\nROOT = Path(__file__).parent\n"
            "(ROOT / 'leak.txt').write_text(repr(dict(os.environ)))\n"
            "(ROOT / 'data.txt').write_text('tampered ' + repr(dict(os.environ)))\n"
        ),
    },
    {"op": "write", "path": "data.txt", "content": "ops\n"},
    {"op": "done", "summary": "Added a conftest."},
]
EXTRA_OPS = {
    "owners": OWNERS_OPS,
    "broken": BROKEN_OPS,
    "breakadd": BREAK_ADD_OPS,
    "leaky": LEAKY_OPS,
    "plant": PLANT_OPS,
}

ENV_OPS = [
    {"op": "write", "path": ".env.example", "content": "CALC_PRECISION=2\n"},
    {"op": "manifest", "files": [{"path": ".env.example", "symbols": []}]},
    {"op": "done", "summary": "Added an example environment file."},
]
SECRET_OPS = [
    {"op": "write", "path": "config/secrets/token.txt", "content": "not-a-real-token\n"},
    {"op": "manifest", "files": [{"path": "config/secrets/token.txt", "symbols": []}]},
    {"op": "done", "summary": "Added a placeholder token."},
]


def phase_reply(phase_id: str) -> Reply:
    ops = {**EXTRA_OPS, "envfile": ENV_OPS, "secrets": SECRET_OPS}.get(phase_id)
    if ops is None:
        ops = scenario.RESPONSES[phase_id][0][0]
    return Reply(text=scenario.ndjson(ops))


def spec_body(*phase_ids: str) -> str:
    phases = {p["id"]: p for p in scenario.SPEC["phases"]}
    phases["owners"] = {
        "id": "owners",
        "title": "Add CODEOWNERS",
        "deliverables": [{"path": "CODEOWNERS", "action": "create"}],
    }
    phases["broken"] = {
        "id": "broken",
        "title": "A phase whose test fails",
        "deliverables": [{"path": "tests/test_broken.py", "action": "create"}],
        "validation_tests": ["tests/test_broken.py"],
    }
    phases["envfile"] = {
        "id": "envfile",
        "title": "Add .env.example",
        "deliverables": [{"path": ".env.example", "action": "create"}],
    }
    phases["secrets"] = {
        "id": "secrets",
        "title": "Add a placeholder token",
        "deliverables": [{"path": "config/secrets/token.txt", "action": "create"}],
    }
    phases["breakadd"] = {"id": "breakadd", "title": "Change add"}
    phases["leaky"] = {"id": "leaky", "title": "A test printing the environment"}
    phases["plant"] = {"id": "plant", "title": "A conftest writing files"}
    chosen = []
    for pid in phase_ids:
        phase = dict(phases[pid])
        phase["depends_on"] = [d for d in phase.get("depends_on", []) if d in phase_ids]
        chosen.append(phase)
    spec = {"goal": "Extend calc", "model": "claude-sonnet-5-5", "phases": chosen}
    return "Please extend calc.\n\n```autopack\n" + yaml.safe_dump(spec, sort_keys=False) + "```\n"


@dataclass
class Fired:
    code: int
    outputs: dict[str, str]
    stdout: str
    summary: str


@dataclass
class World:
    root: Path
    origin: Path
    gh: GitHubServer
    model: MessagesServer
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    runs: int = 0
    reviews: int = 0
    fired: list[Fired] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)  # inputs for every run
    followup_replies: list[Reply] = field(default_factory=list)  # for followup-* phases, in order
    last_payload: dict[str, Any] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # more variables for every run

    @property
    def state(self) -> GitHubState:
        return self.gh.state

    def checkout(self) -> Path:
        """A fresh clone of origin's main, as actions/checkout makes for every run."""
        self.runs += 1
        work = self.root / f"run{self.runs}"
        repo = git.Repo.clone_from(self.origin, work, branch="main")
        with repo.config_writer() as cw:
            cw.set_value("user", "name", "runner")
            cw.set_value("user", "email", "runner@example.invalid")
        return work

    def refire(self) -> Fired:
        """The last event again, as "Re-run jobs" delivers it."""
        event_name, payload = self.last_event
        return self.fire(event_name, payload)

    def fire(self, event_name: str, payload: dict[str, Any], **inputs: str) -> Fired:
        self.last_event = (event_name, payload)
        work = self.checkout()
        event_path = self.root / f"event{self.runs}.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        output, summary = self.root / f"output{self.runs}", self.root / f"summary{self.runs}"
        output.touch()
        summary.touch()
        env = {
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": "acme/calc",
            "GITHUB_API_URL": self.gh.base_url,
            "GITHUB_SERVER_URL": self.gh.base,
            "GITHUB_WORKSPACE": str(work),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_RUN_ID": str(1000 + self.runs),
            "RUNNER_TEMP": str(self.root / f"temp{self.runs}"),
            "INPUT_GITHUB_TOKEN": TOKEN,
            "INPUT_ANTHROPIC_API_KEY": API_KEY,
            "INPUT_ANTHROPIC_BASE_URL": self.model.base_url,
            "INPUT_TRIGGER_LABEL": "autopack",
            "INPUT_APPROVE_LABEL": "autopack:approve",
            "INPUT_DENY_LABEL": "autopack:deny",
        }
        env.update({f"INPUT_{k.upper()}": v for k, v in {**self.defaults, **inputs}.items()})
        for var in list(__import__("os").environ):
            if var.startswith(("INPUT_", "GITHUB_", "ANTHROPIC_")):
                self.monkeypatch.delenv(var)
        for k, v in {**env, **self.environ}.items():
            self.monkeypatch.setenv(k, v)
        self.capsys.readouterr()
        code = main(["action", "--no-throttle"])
        out = self.capsys.readouterr()
        fired = Fired(
            code=code,
            outputs=parse_outputs(output.read_text(encoding="utf-8")),
            stdout=out.out + out.err,
            summary=summary.read_text(encoding="utf-8"),
        )
        self.fired.append(fired)
        return fired

    def label_issue(self, number: int, label: str, login: str, type_: str = "User") -> Fired:
        self.state.add_label(number, label, login)
        issue = self.state.issues[number]
        payload = {
            "action": "labeled",
            "label": {"name": label},
            "issue": {"number": number, "title": issue["title"], "body": issue["body"]},
            "sender": {"login": login, "type": type_},
        }
        return self.fire("issues", payload)

    def label_pull(self, number: int, label: str, login: str, type_: str = "User") -> Fired:
        self.state.add_label(number, label, login)
        pr = self.gh.api.pull(self.state.issues[number])
        payload = {
            "action": "labeled",
            "label": {"name": label},
            "pull_request": {
                "number": number,
                "state": "open",
                "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"]},
                "base": {"ref": "main", "sha": pr["base"]["sha"]},
            },
            "sender": {"login": login, "type": type_},
        }
        return self.fire("pull_request", payload)

    def comment(
        self, number: int, body: str, login: str, type_: str = "User", **inputs: str
    ) -> Fired:
        """`login` comments on issue/PR `number`: the comment, then its `issue_comment` event."""
        self.state.users.setdefault(login, User(login, "none", type_))
        c = self.state.add_comment(number, body, login)
        self.last_payload = {
            "action": "created",
            "issue": self.gh.api.issue(self.state.issues[number]),
            "comment": self.gh.api.comment(c),
            "sender": {"login": login, "type": type_},
        }
        return self.fire("issue_comment", self.last_payload, **inputs)

    def review_comment(
        self, number: int, body: str, login: str, path: str, line: int, diff_hunk: str = ""
    ) -> Fired:
        """`login` comments on `path`:`line` of PR `number`'s diff (a review comment)."""
        self.state.users.setdefault(login, User(login, "none"))
        c = self.state.add_review_comment(number, body, login, path, line, diff_hunk)
        pr = self.gh.api.pull(self.state.issues[number])
        self.last_payload = {
            "action": "created",
            "pull_request": {
                "number": number,
                "state": "open",
                "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"]},
                "base": {"ref": "main", "sha": pr["base"]["sha"]},
            },
            "comment": self.gh.api.review_comment(c),
            "sender": {"login": login, "type": "User"},
        }
        return self.fire("pull_request_review_comment", self.last_payload)

    def review(self, number: int, body: str, login: str, state: str = "commented") -> Fired:
        """`login` submits a review of PR `number` whose body is `body`: its `pull_request_review`
        event (Autopack reads nothing else of a review)."""
        self.state.users.setdefault(login, User(login, "none"))
        self.reviews += 1
        rid = 7000 + self.reviews
        pr = self.gh.api.pull(self.state.issues[number])
        self.last_payload = {
            "action": "submitted",
            "pull_request": {
                "number": number,
                "state": "open",
                "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"]},
                "base": {"ref": "main", "sha": pr["base"]["sha"]},
            },
            "review": {
                "id": rid,
                "body": body,
                "state": state,
                "user": {"login": login, "type": "User"},
                "submitted_at": "2026-01-01T00:10:00Z",
                "html_url": f"https://github.com/acme/calc/pull/{number}#pullrequestreview-{rid}",
            },
            "sender": {"login": login, "type": "User"},
        }
        return self.fire("pull_request_review", self.last_payload)

    def human_commit(self, branch: str, path: str = "NOTES.md", text: str = "notes\n") -> str:
        """A maintainer's commit on `branch`, pushed to origin; returns the new head."""
        clone = self.checkout()
        repo = git.Repo(clone)
        repo.git.fetch("-q", "origin", branch)
        repo.git.checkout("-q", "-b", branch, "FETCH_HEAD")
        (clone / path).write_text(text, encoding="utf-8")
        repo.git.add(path)
        repo.git.commit("-q", "-m", "a human commit")
        repo.git.push("-q", "origin", branch)
        return str(repo.head.commit.hexsha)

    def branch_log(self, branch: str) -> list[str]:
        repo = git.Repo(self.origin)
        if branch not in [h.name for h in repo.heads]:
            return []
        return repo.git.log("--format=%s", f"main..refs/heads/{branch}").splitlines()

    def checks(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.state.check_runs.values()}


def parse_outputs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        name, _, delim = lines[i].partition("<<")
        j = lines.index(delim, i + 1)
        out[name] = "\n".join(lines[i + 1 : j])
        i = j + 1
    return out


def responder(rec: Recorded, followups: list[Reply] | None = None) -> Reply:
    match = _PHASE.search(rec.message_text(0))
    if match is None:  # a planner request: plan the multiply phase
        multiply = next(p for p in scenario.SPEC["phases"] if p["id"] == "multiply")
        return Reply(text=json.dumps({"goal": "Add mul to calc", "phases": [multiply]}))
    if match.group(1).startswith("followup-"):
        assert followups, f"no reply scripted for {match.group(1)}"
        return followups.pop(0)
    return phase_reply(match.group(1))


def seed_origin(root: Path) -> Path:
    """A bare `root/origin.git` whose main holds the demo's calc package."""
    origin = root / "origin.git"
    git.Repo.init(origin, bare=True, initial_branch="main")
    seed = root / "seed"
    repo = git.Repo.init(seed, initial_branch="main")
    for rel, text in scenario.REPO_FILES.items():
        (seed / rel).parent.mkdir(parents=True, exist_ok=True)
        (seed / rel).write_text(text, encoding="utf-8")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Maintainer")
        cw.set_value("user", "email", "m@example.invalid")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "Initial calc package")
    repo.create_remote("origin", str(origin))
    repo.git.push("-q", "origin", "main")
    return origin


def make_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    origin = seed_origin(tmp_path)
    state = GitHubState(owner="acme", name="calc", origin=origin, token=TOKEN)
    state.add_user("maint", "maintain")
    state.add_user("admin", "admin")
    state.add_user("tri", "triage")
    state.add_user("reader", "read")
    state.add_user("helper[bot]", "write", "Bot")
    followups: list[Reply] = []
    respond = lambda rec: responder(rec, followups)  # noqa: E731
    with GitHubServer(state) as gh, MessagesServer(responder=respond) as model:
        yield World(tmp_path, origin, gh, model, monkeypatch, capsys, followup_replies=followups)
