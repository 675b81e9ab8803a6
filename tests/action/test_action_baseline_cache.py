"""The Action's baseline_cache input: where the test baselines are cached (absolute, relative to the
workspace, or by default under RUNNER_TEMP), filled by a real run, never committed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from action_world import World, make_world, spec_body

from autopack.action.inputs import (
    ActionConfigError,
    ActionEnv,
    ActionInputs,
    baseline_cache_dir,
)

ENV = ActionEnv(
    event_name="issues",
    event_path="/e.json",
    repository="acme/calc",
    workspace="/w/calc",
    temp="/t",
)


def test_baseline_cache_folder_from_the_input() -> None:
    def folder(value: str, env: ActionEnv = ENV) -> str:
        return baseline_cache_dir(ActionInputs(github_token="x", baseline_cache=value), env)

    assert folder("") == "/t/autopack-baseline-cache"
    assert folder("", ENV.model_copy(update={"temp": ""})) == "/w/autopack-baseline-cache"
    assert folder("/cache/baselines") == "/cache/baselines"
    assert folder(".autopack-baselines") == "/w/calc/.autopack-baselines"
    assert folder(".autopack-baselines/") == "/w/calc/.autopack-baselines"  # a folder may end in /
    with pytest.raises(ActionConfigError, match=r"input baseline_cache .*workspace"):
        folder("../outside")


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def test_a_run_fills_the_baseline_cache_it_is_given(world: World) -> None:
    n = world.state.create_issue("Add mul", spec_body("multiply"))
    world.defaults["baseline_cache"] = ".autopack-baselines"
    fired = world.label_issue(n, "autopack", "maint")
    assert fired.outputs["conclusion"] == "success", fired.stdout
    cached = list((world.root / "run1" / ".autopack-baselines").glob("*.json"))
    assert cached, "no baseline was cached in the workspace folder"
    assert not list((world.root / "temp1").glob("autopack-baseline-cache/*.json"))
    assert world.branch_log("autopack/issue-1") == ["autopack(multiply): Add mul()"]
    files = git.Repo(world.origin).git.ls_tree("-r", "--name-only", "autopack/issue-1")
    assert ".autopack-baselines" not in files

    # the default: a folder under RUNNER_TEMP
    world.defaults["baseline_cache"] = ""
    m = world.state.create_issue("Add mul again", spec_body("multiply"))
    again = world.label_issue(m, "autopack", "maint")
    assert again.outputs["conclusion"] == "success", again.stdout
    assert list((world.root / "temp2" / "autopack-baseline-cache").glob("*.json"))
