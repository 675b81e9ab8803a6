"""`autopack resume` makes the model client only when a phase calls the model: a resume whose only
work is an approved held phase runs offline (no --replay, no API key); when a phase does need the
model and none can be made, that phase fails with a clear error and the rest goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_governance_cli import ENV_TEXT, OPS, SPEC, World, held_request_id

from autopack.cli import main

SMALL_SPEC: dict[str, Any] = {
    "goal": "Settings",
    "phases": [p for p in SPEC["phases"] if p["id"] in ("config", "indep")],
}


def resume_offline(w: World) -> int:
    return main(["resume", "--out", str(w.out), "--repo", str(w.repo), "--no-tests"])


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def test_resume_of_an_approved_held_phase_needs_no_model(
    git_repo: Path, tmp_path: Path, capsys: Any
) -> None:
    w = World(git_repo, tmp_path, SMALL_SPEC, {k: OPS[k] for k in ("config", "indep")})
    assert w.cli("run") == 1  # held
    assert w.cli("approve", held_request_id(w), "--by", "alice") == 0
    capsys.readouterr()
    assert resume_offline(w) == 0, capsys.readouterr().err
    assert w.statuses()["config"][0] == "committed"
    assert (w.repo / ".env.example").read_text() == ENV_TEXT


def test_a_phase_that_needs_the_model_fails_clearly_and_the_approved_one_applies(
    git_repo: Path, tmp_path: Path, capsys: Any
) -> None:
    w = World(git_repo, tmp_path, SPEC, OPS)
    w.cli("run")
    assert w.cli("approve", held_request_id(w), "--by", "alice") == 0
    capsys.readouterr()
    assert resume_offline(w) == 1
    statuses = w.statuses()
    assert statuses["config"][0] == "committed"  # applied without the model
    status, reason = statuses["uses"]
    assert status == "failed"
    assert "phase uses needs a model call (build), but no model client can be made" in reason
    assert "ANTHROPIC_API_KEY is not set" in reason and "--replay" in reason
    assert statuses["leaf"][0] == "blocked"


def test_a_bad_replay_path_is_still_an_error_at_once(
    git_repo: Path, tmp_path: Path, capsys: Any
) -> None:
    w = World(git_repo, tmp_path, SMALL_SPEC, {k: OPS[k] for k in ("config", "indep")})
    w.cli("run")
    head = w.git.commit("autopack/g1").hexsha
    capsys.readouterr()
    args = ["resume", "--out", str(w.out), "--repo", str(w.repo), "--no-tests"]
    assert main([*args, "--replay", str(tmp_path / "missing.jsonl")]) == 1
    assert "missing.jsonl" in capsys.readouterr().err
    assert w.git.commit("autopack/g1").hexsha == head


def test_lazy_client_is_made_once_on_the_first_call_and_a_failure_is_kept() -> None:
    from autopack.adapters.lazy_model import LazyModelClient
    from autopack.adapters.replay_model import ReplayModelClient, ReplayRecord
    from autopack.errors import ConfigError, ModelUnavailableError
    from autopack.ports import Message, ModelRequest

    made: list[int] = []

    def factory() -> ReplayModelClient:
        made.append(1)
        return ReplayModelClient([ReplayRecord(text="a"), ReplayRecord(text="b")])

    request = ModelRequest(
        model="m", system="s", messages=(Message(role="user", content="u"),), max_tokens=10
    )
    lazy = LazyModelClient(factory)
    assert not made and not lazy.made
    assert [lazy.stream(request, lambda _t: None).text for _ in range(2)] == ["a", "b"]
    assert made == [1] and lazy.made

    def no_key() -> ReplayModelClient:
        made.append(2)
        raise ConfigError("ANTHROPIC_API_KEY is not set")

    failing = LazyModelClient(no_key)
    for _ in range(2):
        with pytest.raises(ModelUnavailableError, match=r"the run needs a model call .*not set"):
            failing.stream(request, lambda _t: None)
    assert made == [1, 2]
