"""A phase commits only what its ops wrote, and secrets never reach model-written code: the gates on
a real git repo with real pytest runs, the executor with a replay model (whose requests are kept,
so the repair prompt can be read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest

from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
from autopack.app.compose import GateSettings, build_executor, build_finalizer
from autopack.app.executor import ExecutorConfig
from autopack.core.spec import parse_spec
from autopack.core.state import PhaseStatus, RunState
from autopack.demo.scenario import ndjson
from support.pyrepos import make_repo

SECRETS = {
    "INPUT_GITHUB_TOKEN": "ghs_leakme_input_token",
    "INPUT_ANTHROPIC_API_KEY": "sk-ant-leakme-input-key",
    "GITHUB_TOKEN": "ghs_leakme_env_token",
    "ANTHROPIC_API_KEY": "sk-ant-leakme-env-key",
}
BASE = {
    "notes.txt": "clean\n",
    "tests/test_ok.py": "def test_ok():\n    assert True\n",
}
CONFTEST = (
    "import os\nfrom pathlib import Path\n\nROOT = Path(__file__).parent\n"
    "(ROOT / 'leak.txt').write_text(repr(dict(os.environ)))\n"
    "(ROOT / 'data.txt').write_text('tampered ' + repr(dict(os.environ)))\n"
    "with open(ROOT / 'notes.txt', 'a') as fh:\n    fh.write('TAMPERED\\n')\n"
)
LEAKY_TEST = (
    "import os\n\n\ndef test_leaky():\n"
    "    found = {k: v for k, v in os.environ.items() if 'TOKEN' in k or 'KEY' in k}\n"
    "    assert False, found\n"
)


def run(
    tmp_path: Path, spec: dict[str, Any], records: list[ReplayRecord]
) -> tuple[RunState, ReplayModelClient, str]:
    root = tmp_path / "repo"
    make_repo(root, BASE)
    ws = GitWorkspace(root)
    finalizer = build_finalizer(ws, GateSettings(plugin_autoload=False))
    model = ReplayModelClient(records)
    forge = LocalForge(tmp_path / "out")
    config = ExecutorConfig(run_id="t", repair_rounds=1)
    lines: list[str] = []
    executor = build_executor(
        parse_spec(spec), ws, model, forge, config, finalizer=finalizer, progress=lines.append
    )
    return executor.run(), model, "\n".join(lines)


def test_files_the_test_runs_write_are_never_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    spec = {
        "goal": "g",
        "phases": [
            {"id": "plant", "title": "Plant"},
            {"id": "after", "title": "After", "depends_on": ["plant"]},
        ],
    }
    plant = [
        {"op": "write", "path": "conftest.py", "content": CONFTEST},
        {"op": "write", "path": "data.txt", "content": "ops\n"},
        {"op": "done", "summary": "s"},
    ]
    after = [
        {"op": "edit", "path": "notes.txt", "old": "clean\n", "new": "clean and edited\n"},
        {"op": "done", "summary": "s"},
    ]
    records = [ReplayRecord(text=ndjson(plant), phase="plant")]
    records.append(ReplayRecord(text=ndjson(after), phase="after"))
    state, _, err = run(tmp_path, spec, records)
    assert [p.status for p in state.phases] == [PhaseStatus.committed] * 2
    repo = git.Repo(tmp_path / "repo")
    assert repo.git.show("autopack/t:data.txt") == "ops"  # the ops' bytes, not the tampered ones
    assert repo.git.show("autopack/t:notes.txt") == "clean and edited"  # never read tampered
    assert "leak.txt" not in repo.git.ls_tree("-r", "--name-only", "autopack/t").split()
    assert not (tmp_path / "repo" / "leak.txt").exists()
    assert not repo.is_dirty(untracked_files=True)
    assert "worktree: undid what the test runs wrote outside the phase" in err
    assert "never committed: leak.txt, notes.txt" in err
    assert "put back the bytes the ops wrote, which a test run changed: data.txt" in err
    check = json.loads((tmp_path / "out" / "checks" / "plant.json").read_text(encoding="utf-8"))
    assert check["conclusion"] == "success"
    assert "| worktree | warn | undid what the test runs wrote" in check["summary"]
    assert "leak.txt, notes.txt" in check["summary"] and "data.txt" in check["summary"]


def test_secrets_never_reach_the_check_run_nor_the_repair_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    spec = {"goal": "g", "phases": [{"id": "leaky", "title": "Leaky"}]}
    ops = [{"op": "write", "path": "tests/test_leaky.py", "content": LEAKY_TEST}, {"op": "done"}]
    retry = [{"op": "write", "path": "NOTES.md", "content": "x\n"}, {"op": "done"}]
    records = [
        ReplayRecord(text=ndjson(ops), phase="leaky"),
        ReplayRecord(text=ndjson(retry, 3), phase="leaky"),
    ]
    state, model, _ = run(tmp_path, spec, records)
    leaky = state.phase("leaky")
    assert leaky.status is PhaseStatus.failed
    assert "tests/test_leaky.py::test_leaky (AssertionError: {}" in leaky.reason
    repair = model.requests[1]
    assert repair.purpose == "repair" and "test_leaky" in repair.messages[2].content
    published = [
        p.read_text(encoding="utf-8") for p in (tmp_path / "out").rglob("*") if p.is_file()
    ]
    sent = json.dumps([m.content for r in model.requests for m in r.messages])
    for secret in SECRETS.values():
        assert secret not in sent
        assert not [text for text in published if secret in text]


def test_a_phase_file_a_test_run_turns_into_a_symlink_is_put_back(tmp_path: Path) -> None:
    conftest = (
        "from pathlib import Path\n\nDATA = Path(__file__).parent / 'data.txt'\n"
        "if DATA.is_file() and not DATA.is_symlink():\n"
        "    DATA.unlink()\n    DATA.symlink_to('/etc/hostname')\n"
    )
    spec = {"goal": "g", "phases": [{"id": "swap", "title": "Swap"}]}
    ops = [
        {"op": "write", "path": "conftest.py", "content": conftest},
        {"op": "write", "path": "data.txt", "content": "ops\n"},
        {"op": "done", "summary": "s"},
    ]
    state, _, err = run(tmp_path, spec, [ReplayRecord(text=ndjson(ops), phase="swap")])
    assert state.phase("swap").status is PhaseStatus.committed
    assert "put back the bytes the ops wrote, which a test run changed: data.txt" in err
    repo = git.Repo(tmp_path / "repo")
    assert repo.git.ls_tree("autopack/t", "data.txt").startswith("100644 blob")  # not a link
    assert repo.git.show("autopack/t:data.txt") == "ops"
    assert not (tmp_path / "repo" / "data.txt").is_symlink()
