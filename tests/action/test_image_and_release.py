"""The reproducible image and the release: the lock files cover pyproject.toml with hashes, the
Dockerfile installs them hash-checked on a base pinned by digest, the release workflow points a
released action.yml at the pushed image by digest, and every workflow pins its actions by SHA with
least permissions."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
DIGEST = "sha256:" + "ab" * 32


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a `--generate-hashes` lock file."""
    out: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            out[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = out[name]
            out[name] = (version, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            pytest.fail(f"{path.name}: not a pinned requirement: {line!r}")
    return out


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    lock = locked(ROOT / "requirements.lock")
    assert all(hashes > 0 for _, hashes in lock.values())
    project = pyproject()["project"]
    assert isinstance(project, dict)
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is not in requirements.lock: run scripts/lock.sh"
        assert req.specifier.contains(lock[name][0]), f"{spec} vs {lock[name][0]}: re-lock"
    build = locked(ROOT / "requirements-build.lock")
    system = pyproject()["build-system"]
    assert isinstance(system, dict)
    for spec in system["requires"]:
        req = Requirement(spec)
        assert req.specifier.contains(build[canonicalize_name(req.name)][0])


def test_the_dockerfile_builds_from_the_lock_on_a_pinned_base() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=python:3\.12-slim@sha256:[0-9a-f]{64}$", text, re.M)
    assert text.count("FROM ${BASE_IMAGE}") == 2  # build stage, then the runtime stage
    assert "--require-hashes -r /src/requirements.lock" in text
    assert "--require-hashes -r /src/requirements-build.lock" in text
    assert "--no-deps --no-index /dist/autopack-*.whl" in text
    assert "COPY --from=build /opt/autopack /opt/autopack" in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for needed in ("requirements.lock", "requirements-build.lock", "LICENSE", "wheels/", "src/"):
        assert f"!{needed}" in ignored, needed


def _release_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "release_action", ROOT / "scripts" / "release_action.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_release_commit_runs_the_image_by_digest_and_changes_nothing_else() -> None:
    script = _release_script()
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    image = f"docker://ghcr.io/acme/autopack@{DIGEST}"
    released = script.pin_image(text, image)
    before, after = yaml.safe_load(text), yaml.safe_load(released)
    assert before["runs"] == {"using": "docker", "image": "Dockerfile"}  # main builds it
    assert after["runs"] == {"using": "docker", "image": image}
    assert {k: v for k, v in after.items() if k != "runs"} == {
        k: v for k, v in before.items() if k != "runs"
    }
    assert script.pin_image(released, image) == released  # a re-run of the release: the same
    for bad in (
        "docker://ghcr.io/acme/autopack:v1.2.3",  # a tag can move; a digest cannot
        f"docker://ghcr.io/Acme/autopack@{DIGEST}",  # ghcr.io names are lower case
        f"docker://docker.io/acme/autopack@{DIGEST}",
        "Dockerfile",
    ):
        with pytest.raises(ValueError):
            script.pin_image(text, bad)


def _workflows() -> dict[str, dict[str, object]]:
    paths = [
        *sorted((ROOT / ".github/workflows").glob("*.yml")),
        ROOT / "examples/workflows/autopack.yml",
    ]
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths}


def test_every_workflow_pins_its_actions_by_commit_sha() -> None:
    for name, wf in _workflows().items():
        jobs = wf["jobs"]
        assert isinstance(jobs, dict)
        for job in jobs.values():
            for step in job.get("steps", []):
                uses = step.get("uses")
                if uses is None or uses.startswith("autopack/autopack@"):  # the example's own
                    continue
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{name}: {uses}"


def test_the_release_workflow_has_least_permissions_and_pushes_every_tag() -> None:
    wf = _workflows()["release.yml"]
    assert wf[True] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}  # YAML 1.1 reads `on` as True
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert isinstance(jobs, dict)
    assert jobs["image"]["permissions"] == {"contents": "read", "packages": "write"}
    assert jobs["action"]["permissions"] == {"contents": "write"}
    assert jobs["action"]["needs"] == "image"
    text = (ROOT / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert 'for tag in "$TAG" "$minor" "$major" "sha-$GITHUB_SHA"' in text
    assert "python3 scripts/release_action.py" in text
    assert 'git push --force origin "refs/tags/$TAG" "refs/tags/$minor" "refs/tags/$major"' in text
    ci = _workflows()["ci.yml"]
    assert ci["permissions"] == {"contents": "read"}
    assert {"test", "actionlint", "image"} <= set(ci["jobs"])  # type: ignore[arg-type]


def test_readme_and_ci_run_the_same_checks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    setup = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
    [line] = [x for x in readme.splitlines() if x.startswith(setup)]
    assert line.removeprefix(setup).replace(".venv/bin/", "") == ci
    assert ".github/workflows/*.yml" in ci


def test_readme_tables_are_generated_from_action_yml() -> None:
    spec = importlib.util.spec_from_file_location(
        "action_docs", ROOT / "scripts" / "action_docs.py"
    )
    assert spec is not None and spec.loader is not None
    docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(docs)
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.render(readme, action) == readme, "run: python3 scripts/action_docs.py"
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in readme
