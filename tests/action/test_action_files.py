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
    assert 'ENTRYPOINT ["autopack"]' in text and 'CMD ["action"]' in text


def test_the_action_command_marks_the_workspace_safe_for_git(tmp_path: Path) -> None:
    """A workspace owned by another user (as the runner mounts it): git refuses it unless the
    action command's settings mark it safe.directory."""
    import os
    import subprocess

    from autopack.commands.action import safe_directory_env

    ws = tmp_path / "ws"
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    if os.geteuid() != 0:
        pytest.skip("needs root to give the workspace to another user")
    for dirpath, _, files in os.walk(ws):
        os.chown(dirpath, 4321, 4321)
        for name in files:
            os.chown(os.path.join(dirpath, name), 4321, 4321)
    plain = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG")}
    refused = subprocess.run(["git", "-C", str(ws), "status"], env=plain, capture_output=True)
    assert refused.returncode != 0 and b"dubious ownership" in refused.stderr
    extra = safe_directory_env({"GITHUB_WORKSPACE": str(ws)})
    ok = subprocess.run(["git", "-C", str(ws), "status"], env=plain | extra, capture_output=True)
    assert ok.returncode == 0, ok.stderr
    assert safe_directory_env({}) == {}
    again = safe_directory_env({"GITHUB_WORKSPACE": "/w", "GIT_CONFIG_COUNT": "2"})
    assert again == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "safe.directory",
        "GIT_CONFIG_VALUE_2": "/w",
    }


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
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github/workflows").glob("*.yml"))
    assert "release.yml" in " ".join(workflows)
    out = subprocess.run(
        [str(_zizmor()), "--offline", "action.yml", "examples/workflows/autopack.yml", *workflows],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
