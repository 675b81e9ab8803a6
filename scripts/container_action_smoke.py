"""Run the action's image (built by scripts/container-smoke.sh) as GitHub would, against the local
GitHub server and the local Messages API server of the tests: an issue labelled `autopack` with a
two-phase spec, the test gate off. Not in CI. Usage (after container-smoke.sh, as root):

    CONTAINERS_CONF=/path/to/containers.conf .venv/bin/python scripts/container_action_smoke.py

With SETUP=1 the test gate is on and the repo's tests import `tinydep`, a local package the image
does not have: `setup_command` installs it (`pip install /path/to/tinydep`) into the environment
Autopack makes with uv inside the container (pytest and pip come from the package index, so the
container needs the network; behind a TLS-intercepting proxy set CA_BUNDLE to the host's CA file:
it is mounted and given to uv and pip as SSL_CERT_FILE and PIP_CERT); the phase's gate must pass.

Prints the exit code, the log, the step outputs, the pushed branch, the PR and the check runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "action"))  # action_world

import git  # noqa: E402
from action_world import API_KEY, TOKEN, responder, seed_origin, spec_body  # noqa: E402

from support.github_server import GitHubServer, GitHubState  # noqa: E402
from support.messages_server import MessagesServer  # noqa: E402
from support.pypkg import local_dependency  # noqa: E402

IMAGE = os.environ.get("IMAGE", "localhost/autopack:smoke")


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="autopack-container-action-"))
    origin = seed_origin(root)
    setup = os.environ.get("SETUP") == "1"
    inputs = {"INPUT_TEST_COMMAND": "none"}
    if setup:
        dep = local_dependency(root / "tinydep")
        seed = git.Repo(root / "seed")
        test = root / "seed" / "tests" / "test_dep.py"
        test.write_text(
            "from tinydep import offset\n\n\ndef test_offset():\n    assert offset() == 0\n"
        )
        seed.git.add("-A")
        seed.git.commit("-q", "-m", "a test that needs tinydep")
        seed.git.push("-q", "origin", "main")
        inputs = {"INPUT_SETUP_COMMAND": f"pip install -q {dep}"}
    work = root / "work"
    git.Repo.clone_from(origin, work, branch="main")
    # The runner mounts the workspace owned by its own user (uid 1001), not the container's root:
    # git then needs it marked safe.directory, as the action does.
    for folder, _, files in os.walk(work):
        os.chown(folder, 1001, 1001)
        for name in files:
            os.chown(os.path.join(folder, name), 1001, 1001)
    state = GitHubState(owner="acme", name="calc", origin=origin, token=TOKEN)
    state.add_user("maint", "maintain")
    n = state.create_issue("Mul and docs", spec_body("multiply", "docs"))
    state.add_label(n, "autopack", "maint")
    event = {
        "action": "labeled",
        "label": {"name": "autopack"},
        "issue": {"number": n},
        "sender": {"login": "maint"},
    }
    (root / "event.json").write_text(json.dumps(event), encoding="utf-8")
    (root / "out").touch()
    (root / "summary").touch()
    with GitHubServer(state) as gh, MessagesServer(responder=responder) as model:
        env = {
            "GITHUB_EVENT_NAME": "issues",
            "GITHUB_EVENT_PATH": f"{root}/event.json",
            "GITHUB_REPOSITORY": "acme/calc",
            "GITHUB_API_URL": gh.base_url,
            "GITHUB_WORKSPACE": str(work),
            "GITHUB_OUTPUT": f"{root}/out",
            "GITHUB_STEP_SUMMARY": f"{root}/summary",
            "RUNNER_TEMP": str(root),
            "INPUT_GITHUB_TOKEN": TOKEN,
            "INPUT_ANTHROPIC_API_KEY": API_KEY,
            "INPUT_ANTHROPIC_BASE_URL": model.base_url,
            **inputs,
        }
        cmd = ["podman", "run", "--rm", "--network=host", "-v", f"{root}:{root}"]
        bundle = os.environ.get("CA_BUNDLE")
        if bundle:
            cmd += ["-v", f"{bundle}:/etc/autopack-ca.pem:ro"]
            env.update(SSL_CERT_FILE="/etc/autopack-ca.pem", PIP_CERT="/etc/autopack-ca.pem")
        for key, value in env.items():
            cmd += ["-e", f"{key}={value}"]
        started = time.monotonic()
        run = subprocess.run([*cmd, IMAGE], capture_output=True, text=True, timeout=600)
        print(f"exit {run.returncode} after {time.monotonic() - started:.1f} s")
        print(run.stdout + run.stderr)
        print("outputs:", (root / "out").read_text(encoding="utf-8"))
        branch = git.Repo(origin).git.log("--format=%s", "main..refs/heads/autopack/issue-1")
        print("branch autopack/issue-1:", branch.replace("\n", " | "))
        print(
            "pull requests:",
            [(i["number"], "draft" if i["pull"]["draft"] else "ready") for i in state.pulls()],
        )
        print("check runs:", {c["name"]: c["conclusion"] for c in state.check_runs.values()})
        for c in state.check_runs.values():
            if setup and c["name"] == "Autopack / multiply":
                print(c["output"]["summary"])
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
