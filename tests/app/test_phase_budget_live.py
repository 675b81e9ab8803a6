"""The live path of the budget: exact token counts from the counting endpoint of the stand-in
Messages API (through the real SDK), cached per content SHA; offline estimates when it cannot
count; typical sizes of similar files for files to create."""

from __future__ import annotations

import math
import os
from pathlib import Path

import git

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.lazy_model import LazyModelClient
from autopack.adapters.package_data import estimator_params, lookup
from autopack.adapters.replay_model import ReplayModelClient
from autopack.app.phase_budget import Budgeter
from autopack.core.budget.estimator import tokens_of
from autopack.core.build import ExecutorConfig
from autopack.core.spec import parse_spec
from support.messages_server import MessagesServer

MODEL = lookup("claude-sonnet-4-6")
CONFIG = ExecutorConfig(run_id="live")
P = estimator_params()


def _repo(root: Path) -> GitWorkspace:
    (root / "tests").mkdir()
    (root / "src" / "core.py").write_text("def f(x):\n    return x + 1\n" * 60, encoding="utf-8")
    for n, size in enumerate((400, 800, 1200)):
        (root / "tests" / f"test_{n}.py").write_text("# t\n" + "x = 1\n" * (size // 6))
    repo = git.Repo(root)
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "files")
    return GitWorkspace(root)


SPEC = parse_spec(
    {
        "goal": "g",
        "phases": [
            {
                "id": "p",
                "title": "P",
                "deliverables": [
                    {"path": "src/core.py"},
                    {"path": "tests/test_core.py", "action": "create"},
                ],
            }
        ],
    }
)


def test_exact_counts_are_used_and_counted_once_per_content(git_repo: Path) -> None:
    ws = _repo(git_repo)
    with MessagesServer() as server:
        client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
        budgeter = Budgeter(ws, client, MODEL, P, CONFIG)
        first = budgeter.budget_of(SPEC.phases[0])
        counted = len(server.count_requests)
        again = budgeter.budget_of(SPEC.phases[0])
        assert len(server.count_requests) == counted  # the same content is not counted twice
        system, prompt = "s" * 400, "p" * 4000
        assert budgeter.input_tokens(system, prompt) == 100 + 1000  # the phase's input, exactly
        prepared = budgeter.prepare(SPEC.phases[0], shared_reads=2)
        assert prepared.settings.cache.shared_reads == 2 and prepared.plan == first.plan
        client.close()
    assert counted == 2  # the message framing once, then core.py
    core = ws.read("src/core.py")
    assert core is not None
    assert first.plan is not None and again.plan == first.plan
    row = next(d for d in first.plan.estimate.deliverables if d.path == "src/core.py")  # type: ignore[union-attr]
    assert row.full_file_tokens == math.ceil(len(core) / 4)  # the stand-in's count, not chars/3.8
    # The test module to create is sized like its neighbours (median of the three), not 250.
    created = next(d for d in first.plan.estimate.deliverables if d.path == "tests/test_core.py")  # type: ignore[union-attr]
    texts = [(ws.read(f"tests/test_{n}.py") or b"").decode() for n in range(3)]
    sizes = sorted(
        tokens_of(tokens=None, chars=len(t), lines=t.count("\n"), params=P, path="tests/t.py") or 0
        for t in texts
    )
    assert created.full_file_tokens != P.create_tokens["python_test"]
    assert abs(created.full_file_tokens - sizes[1]) <= 1


def test_offline_or_refused_counting_falls_back_to_chars(git_repo: Path) -> None:
    ws = _repo(git_repo)
    with MessagesServer() as server:
        server.count_status = 404
        client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
        budgeter = Budgeter(ws, client, MODEL, P, CONFIG)
        prepared = budgeter.budget_of(SPEC.phases[0])
        tried = len(server.count_requests)
        budgeter.budget_of(SPEC.phases[0])
        assert budgeter.input_tokens("s", "p") is None
        client.close()
        assert len(server.count_requests) == tried == 1  # one refusal, then offline for the run
    replayed = Budgeter(ws, ReplayModelClient([]), MODEL, P, CONFIG)
    offline = replayed.budget_of(SPEC.phases[0])  # a client that cannot count at all
    assert prepared.plan == offline.plan
    assert offline.plan is not None and offline.plan.estimate is not None
    core = offline.plan.estimate.deliverables[0]
    assert core.path == "src/core.py" and core.full_file_tokens != math.ceil(
        len(ws.read("src/core.py") or b"") / 4
    )


def test_sizing_a_run_makes_no_model_client_only_building_a_phase_does(git_repo: Path) -> None:
    ws = _repo(git_repo)
    made: list[str] = []

    def factory() -> ReplayModelClient:
        made.append("client")
        return ReplayModelClient([])

    budgeter = Budgeter(ws, LazyModelClient(factory), MODEL, P, CONFIG)
    assert budgeter.estimate_tokens(SPEC.phases[0]) is not None
    assert made == []  # the run's context is sized offline: a resume may need no client at all
    budgeter.prepare(SPEC.phases[0])
    assert made == ["client"]  # a phase that is built asks its client to count (this one cannot)


def test_a_symlink_among_a_new_files_neighbours_does_not_stop_the_sizing(git_repo: Path) -> None:
    ws = _repo(git_repo)
    os.symlink("test_0.py", git_repo / "tests" / "test_link.py")
    os.symlink("/etc/hostname", git_repo / "tests" / "test_outside.py")
    repo = git.Repo(git_repo)
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "symlinks")
    budgeter = Budgeter(ws, ReplayModelClient([]), MODEL, P, CONFIG)
    # The typical size of a new test is taken from the regular files beside it.
    assert budgeter.estimate_tokens(SPEC.phases[0]) is not None
    assert budgeter.sizer.hint("tests/test_core.py") is not None
