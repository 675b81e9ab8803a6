"""`autopack action` with INPUT_SETUP_COMMAND end to end (real git, the local GitHub and Messages API
servers): a repo whose tests import a package Autopack's own environment lacks gets it from the
setup command; a phase that breaks a test is blocked naming it, a correct one is committed, nothing
the setup made is committed; a failing setup stops before any model call. And no secret reaches
model-written code: not the check runs, not the repair prompt, not the pushed branch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from action_world import API_KEY, TOKEN, World, make_world, spec_body

from support.pypkg import local_dependency


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def push_to_main(world: World, files: dict[str, str]) -> None:
    clone = world.root / "maintainer"
    repo = git.Repo.clone_from(world.origin, clone, branch="main")
    for rel, text in files.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(text, encoding="utf-8")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "tests that need tinydep", author="M <m@example.invalid>")
    repo.git.push("-q", "origin", "main")


DEP_TEST = "from tinydep import offset\n\n\ndef test_offset():\n    assert offset() == 0\n"


def test_setup_command_installs_what_the_tests_import(world: World) -> None:
    dep = local_dependency(world.root / "tinydep")
    push_to_main(world, {"tests/test_dep.py": DEP_TEST})
    world.defaults["setup_command"] = f"pip install -q {dep} && pip install -q -e ."
    n = world.state.create_issue("Mul, and a change to add", spec_body("multiply", "breakadd"))
    fired = world.label_issue(n, "autopack", "maint")

    assert fired.code == 1, fired.stdout  # breakadd failed
    assert fired.outputs["conclusion"] == "failure"
    assert "autopack: test environment" in fired.stdout and "made with uv" in fired.stdout
    assert "autopack: setup command finished in" in fired.stdout
    assert (world.root / "temp1" / "autopack-test-env" / "bin" / "python").exists()
    assert world.branch_log("autopack/issue-1") == ["autopack(multiply): Add mul()"]
    checks = world.checks()
    multiply = checks["Autopack / multiply"]
    assert multiply["conclusion"] == "success"
    # tinydep's test ran in the environment: 3 tests at the base, 4 with multiply's
    assert "| tests | pass | 4 test(s), 0 pre-existing" in multiply["output"]["summary"]
    assert "Test gates: 2 test-suite run(s), 7 test(s) executed" in multiply["output"]["summary"]
    broken = checks["Autopack / breakadd"]
    assert broken["conclusion"] == "failure"
    # the gate table names the test (the title has how the repair round ended)
    assert (
        "| tests | block | new failure(s): tests/test_ops.py::test_add"
        in broken["output"]["summary"]
    )
    tree = git.Repo(world.origin).git.ls_tree("-r", "--name-only", "autopack/issue-1").split()
    assert not [p for p in tree if "egg-info" in p or p.startswith("build/")]
    tokens = checks["Autopack / tokens"]["output"]["summary"]
    assert "| suite runs | tests | test s | baseline |" in tokens


def test_a_failing_setup_stops_before_any_model_call(world: World) -> None:
    world.defaults["setup_command"] = "echo resolving; echo 'ERROR: no matching dist' >&2; exit 9"
    n = world.state.create_issue("Add mul", "Please add mul.")  # no spec: it would be planned
    fired = world.label_issue(n, "autopack", "maint")
    assert fired.code == 1 and fired.outputs["conclusion"] == "error"
    assert world.model.message_requests == []
    assert not world.state.pulls() and world.branch_log("autopack/issue-1") == []
    [comment] = [c for c in world.state.comments_on(n) if "Autopack stopped" in c["body"]]
    assert "failed with exit status 9" in comment["body"]
    assert "ERROR: no matching dist" in comment["body"]


def test_no_secret_reaches_the_check_runs_the_repair_prompt_or_the_branch(world: World) -> None:
    world.environ.update({"GITHUB_TOKEN": TOKEN, "ANTHROPIC_API_KEY": API_KEY})
    n = world.state.create_issue("Two phases", spec_body("leaky", "plant"))
    fired = world.label_issue(n, "autopack", "maint")
    assert fired.outputs["conclusion"] == "failure", fired.stdout  # leaky fails, plant commits
    checks = world.checks()
    assert checks["Autopack / leaky"]["conclusion"] == "failure"
    assert "tests/test_leaky.py::test_leaky (AssertionError: {}" in json.dumps(
        checks["Autopack / leaky"]
    )
    assert checks["Autopack / plant"]["conclusion"] == "success"
    assert "undid what the test runs wrote" in checks["Autopack / plant"]["output"]["summary"]
    repair = [r for r in world.model.message_requests if len(r.messages) == 3]
    assert repair and "test_leaky" in repair[0].message_text(2)
    published = json.dumps(
        [list(world.state.check_runs.values()), list(world.state.comments.values())]
    )
    prompts = json.dumps([r.body for r in world.model.message_requests])
    for secret in (TOKEN, API_KEY):
        assert secret not in published and secret not in prompts
    repo = git.Repo(world.origin)
    assert "leak.txt" not in repo.git.ls_tree("-r", "--name-only", "autopack/issue-1").split()
    assert repo.git.show("autopack/issue-1:data.txt") == "ops"


def test_the_inputs_of_the_test_environment() -> None:
    from autopack.action.inputs import (
        ActionConfigError,
        ActionEnv,
        ActionInputs,
        inputs_from_env,
        managed_env_dir,
    )

    env = ActionEnv(
        event_name="issues", event_path="/e", repository="a/b", workspace="/w/calc", temp="/t"
    )

    def folder(value: str) -> str:
        return managed_env_dir(ActionInputs(github_token="x", test_env_dir=value), env)

    assert folder("") == "/t/autopack-test-env"
    assert folder(".autopack-env") == "/w/calc/.autopack-env"
    assert folder("/opt/env") == "/opt/env"
    with pytest.raises(ActionConfigError, match=r"input test_env_dir \(INPUT_TEST_ENV_DIR\)"):
        folder("../outside")
    parsed = inputs_from_env({"INPUT_GITHUB_TOKEN": "t", "INPUT_TEST_ENV_ALLOW": "DB_HOST, AWS_*"})
    assert parsed.test_env_allow == ("DB_HOST", "AWS_*")
    with pytest.raises(
        ActionConfigError,
        match=r"input test_env_allow \(INPUT_TEST_ENV_ALLOW\): .*GITHUB_TOKEN can never be given",
    ):
        inputs_from_env({"INPUT_GITHUB_TOKEN": "t", "INPUT_TEST_ENV_ALLOW": "GITHUB_TOKEN"})
