"""action.yml, the Dockerfile and the example workflow agree with the code and pass zizmor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    # The token's settings for a push or fetch come after it, never in its place.
    from autopack.adapters.github_push import ActionWorkspace, auth_config

    origin = "https://github.example/acme/calc.git"
    with_remote = plain | extra
    subprocess.run(
        ["git", "-C", str(ws), "remote", "add", "origin", origin], env=with_remote, check=True
    )
    token_env = with_remote | auth_config(origin, "ghs_t", with_remote)
    authed = subprocess.run(["git", "-C", str(ws), "status"], env=token_env, capture_output=True)
    assert authed.returncode == 0, authed.stderr
    os.environ.update(extra)
    try:
        ActionWorkspace(ws, "ghs_t")._git("status")  # the action's own git with its token
    finally:
        for key in extra:
            os.environ.pop(key, None)
    assert safe_directory_env({}) == {}
    again = safe_directory_env({"GITHUB_WORKSPACE": "/w", "GIT_CONFIG_COUNT": "2"})
    assert again == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "safe.directory",
        "GIT_CONFIG_VALUE_2": "/w",
    }


def _workflow() -> dict[Any, Any]:
    wf = yaml.safe_load((ROOT / "examples/workflows/autopack.yml").read_text(encoding="utf-8"))
    assert isinstance(wf, dict)
    return wf


def test_example_workflow_has_least_permissions_and_its_triggers() -> None:
    wf = _workflow()
    triggers = wf[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {
        "issues",
        "pull_request",
        "issue_comment",
        "pull_request_review_comment",
        "pull_request_review",
        "workflow_dispatch",
    }  # never pull_request_target
    assert triggers["issue_comment"] == {"types": ["created"]}
    assert triggers["pull_request_review_comment"] == {"types": ["created"]}
    assert triggers["pull_request_review"] == {"types": ["submitted"]}
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"issue_number", "spec_path"}
    assert wf["permissions"] == {}
    branch, job = wf["jobs"]["branch"], wf["jobs"]["autopack"]
    assert branch["permissions"] == {"pull-requests": "read"}
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
        "checks": "write",
    }
    assert job["needs"] == "branch"
    assert job["concurrency"] == {
        "group": "autopack-${{ needs.branch.outputs.name }}",
        "cancel-in-progress": False,
        "queue": "max",  # every waiting event keeps its job (GitHub's default keeps one)
    }
    assert "author_association" in branch["if"] and "'/autopack'" in branch["if"]


def _fake_gh(tmp_path: Path, head_ref: str) -> dict[str, str]:
    """`gh api URL --jq .head.ref` answering `head_ref` for the PR it is asked about."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\necho "$2" >> {tmp_path}/gh.log\necho {head_ref}\n')
    gh.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HEAD_REF": "autopack/issue-7"}, "autopack/issue-7"),  # labels, review comments
        ({"PR_URL": "https://api.github.com/repos/a/b/pulls/9", "ISSUE": "9"}, "autopack/issue-7"),
        ({"ISSUE": "7"}, "autopack/issue-7"),  # issue labels and comments
        ({"ISSUE": "#7"}, "autopack/issue-7"),  # a dispatch's issue_number input
        ({"SPEC": "specs/mul.yaml"}, "spec:specs/mul.yaml"),
    ],
)
def test_the_branch_job_names_the_run_every_event_belongs_to(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    """The `branch` job's script, run with the environment each event gives it: a comment in a
    PR's conversation is queued with the labels and review comments of the same PR."""
    [step] = _workflow()["jobs"]["branch"]["steps"]
    output = tmp_path / "output"
    full = {"HEAD_REF": "", "PR_URL": "", "ISSUE": "", "SPEC": "", **env}
    full.update(_fake_gh(tmp_path, "autopack/issue-7"), GITHUB_OUTPUT=str(output))
    subprocess.run(["bash", "-e", "-c", step["run"]], env=full, check=True)
    assert output.read_text(encoding="utf-8") == f"name={expected}\n"
    asked = (tmp_path / "gh.log").read_text(encoding="utf-8") if "PR_URL" in env else ""
    assert asked == (f"{env['PR_URL']}\n" if "PR_URL" in env else "")


def test_example_workflow_pins_its_actions_and_uses_real_inputs() -> None:
    wf = yaml.safe_load((ROOT / "examples/workflows/autopack.yml").read_text(encoding="utf-8"))
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = wf["jobs"]["autopack"]["steps"]
    ours = [s for s in steps if s["uses"].startswith("autopack/autopack@")]
    assert len(ours) == 1 and set(ours[0]["with"]) <= set(action["inputs"])
    assert ours[0]["with"]["setup_command"] and ours[0]["with"]["test_env_dir"] == ".autopack-env"
    for step in steps:
        if step is not ours[0]:
            name, _, ref = step["uses"].partition("@")
            assert len(ref) == 40 and int(ref, 16) >= 0, f"{name} is not pinned by a full SHA"
    cached = {s["with"]["path"] for s in steps if s["uses"].startswith("actions/cache/")}
    assert cached == {ours[0]["with"]["test_env_dir"], ours[0]["with"]["baseline_cache"]}
    saves = [s for s in steps if s["uses"].startswith("actions/cache/save@")]
    assert all("always()" in s["if"] for s in saves)  # kept when a phase failed


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
