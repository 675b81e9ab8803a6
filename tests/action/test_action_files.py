"""action.yml, the Dockerfile and the example workflow agree with the code and pass zizmor."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autopack.action.inputs import ActionInputs, inputs_from_env
from autopack.action.session import Outcome

ROOT = Path(__file__).resolve().parents[2]


def test_action_inputs_match_the_code_and_document_their_defaults() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    declared = action["inputs"]
    assert set(declared) == set(ActionInputs.model_fields)
    for name, spec in declared.items():
        assert spec.get("description"), name
        assert "default" in spec, f"input {name} has no documented default"
    # each documented default means the same as leaving the input empty
    env = {"INPUT_GITHUB_TOKEN": "t"}
    env.update(
        {
            f"INPUT_{n.upper()}": str(s["default"])
            for n, s in declared.items()
            if n != "github_token"
        }
    )
    assert inputs_from_env(env) == inputs_from_env({"INPUT_GITHUB_TOKEN": "t"})
    assert set(action["outputs"]) == set(Outcome(conclusion="x").outputs())


def test_dockerfile_takes_a_base_image_and_sets_the_entry_point() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG BASE_IMAGE=" in text and "FROM ${BASE_IMAGE}" in text
    assert 'ENTRYPOINT ["/entrypoint.sh"]' in text
    entry = (ROOT / "action" / "entrypoint.sh").read_text(encoding="utf-8")
    assert 'safe.directory "$GITHUB_WORKSPACE"' in entry and "exec autopack" in entry


def test_example_workflow_has_least_permissions_and_the_three_triggers() -> None:
    wf = yaml.safe_load((ROOT / "examples/workflows/autopack.yml").read_text(encoding="utf-8"))
    triggers = wf[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"issues", "pull_request", "workflow_dispatch"}
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"issue_number", "spec_path"}
    assert wf["permissions"] == {}
    job = wf["jobs"]["autopack"]
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
        "checks": "write",
    }
    assert "github.event.issue.number" in wf["concurrency"]["group"]


def _zizmor() -> str | None:
    beside = Path(sys.executable).with_name("zizmor")  # installed in this venv (the dev extra)
    return str(beside) if beside.exists() else shutil.which("zizmor")


@pytest.mark.skipif(_zizmor() is None, reason="zizmor is not installed")
def test_zizmor_offline_reports_nothing() -> None:
    out = subprocess.run(
        [str(_zizmor()), "--offline", "action.yml", "examples/workflows/autopack.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
