"""A first run that just works: the labels are created when missing (once), a default cost cap,
and the files the Marketplace asks for (a short description, branding, a LICENSE)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from action_world import World, make_world, spec_body

from autopack.action.inputs import inputs_from_env
from autopack.action.session import capped_spec
from autopack.core.spec import Budget, RunSpec

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["autopack", "autopack:approve", "autopack:deny"]


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def label_posts(world: World) -> list[str]:
    return [r.body["name"] for r in world.state.writes("POST", r"/repos/acme/calc/labels$")]


def test_missing_labels_are_created_once_with_colours_and_descriptions(world: World) -> None:
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul", spec_body("multiply"))
    assert world.state.labels == {}
    dispatch = {"inputs": {"issue_number": str(n)}, "sender": {"login": "maint"}}
    first = world.fire("workflow_dispatch", dispatch)
    assert first.code == 0 and first.outputs["conclusion"] == "success", first.stdout
    assert label_posts(world) == LABELS
    for name in LABELS:
        assert f"created the label {name!r}" in first.stdout
        label = world.state.labels[name]
        assert len(label["color"]) == 6 and label["description"].startswith("Autopack: ")
    again = world.fire("workflow_dispatch", dispatch)
    assert again.code == 0 and "created the label" not in again.stdout, again.stdout
    assert label_posts(world) == LABELS  # a re-run creates none


def test_only_the_labels_that_are_missing_are_created(world: World) -> None:
    world.defaults["test_command"] = "none"
    world.state.create_label("AUTOPACK:DENY", "000000")  # GitHub compares names without case
    n = world.state.create_issue("Mul", spec_body("multiply"))
    fired = world.label_issue(n, "autopack", "maint")  # adding a label creates it, as on GitHub
    assert fired.code == 0, fired.stdout
    assert label_posts(world) == ["autopack:approve"]


def test_a_token_that_may_not_create_labels_does_not_stop_the_run(world: World) -> None:
    world.defaults["test_command"] = "none"
    n = world.state.create_issue("Mul", spec_body("multiply"))
    world.state.fail_once("POST", r"/repos/acme/calc/labels$", status=403)
    fired = world.label_issue(n, "autopack", "maint")
    assert fired.code == 0 and fired.outputs["conclusion"] == "success", fired.stdout
    assert "::warning::could not check or create the labels" in fired.stdout
    assert "add them by hand" in fired.stdout


def test_the_cost_cap_defaults_to_5_usd_and_0_means_none() -> None:
    default = inputs_from_env({"INPUT_GITHUB_TOKEN": "t"})
    assert default.max_cost_usd == 5.0 and default.cost_cap == 5.0
    none = inputs_from_env({"INPUT_GITHUB_TOKEN": "t", "INPUT_MAX_COST_USD": "0"})
    assert none.cost_cap is None
    spec = RunSpec.model_validate({"goal": "g", "phases": [{"id": "a", "title": "A"}]})
    assert capped_spec(spec, default.cost_cap).budget.max_cost_usd == 5.0
    assert capped_spec(spec, none.cost_cap).budget.max_cost_usd is None
    tight = spec.model_copy(update={"budget": Budget(max_cost_usd=1.5)})
    assert capped_spec(tight, default.cost_cap).budget.max_cost_usd == 1.5
    example = yaml.safe_load((ROOT / "examples/workflows/autopack.yml").read_text("utf-8"))
    [step] = [
        s for s in example["jobs"]["autopack"]["steps"] if "max_cost_usd" in s.get("with", {})
    ]
    assert float(step["with"]["max_cost_usd"]) > 0


def test_the_marketplace_files() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert 0 < len(action["description"]) < 125
    assert action["branding"]["icon"] and action["branding"]["color"]
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n\nCopyright (c) 2026 Autopack contributors\n")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
