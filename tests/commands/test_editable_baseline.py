"""The baseline cannot be fooled: with the package under test installed in editable mode (src and
flat layout), or importing a file generated at set-up time, a phase that breaks a test is blocked
naming it and a correct phase is committed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from autopack.cli import main
from support.pypkg import BETTER, BROKEN, MODULE, editable_venv, module_path, package_repo


def spec_file(tmp_path: Path, path: str) -> Path:
    spec = {
        "goal": "Change tinycalc",
        "phases": [
            {
                "id": "change",
                "title": "Change check",
                "deliverables": [{"path": path, "action": "modify"}],
            }
        ],
    }
    target = tmp_path / "change.yaml"
    target.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return target


def transcript(tmp_path: Path, path: str, new: str) -> Path:
    ops: list[dict[str, Any]] = [
        {"op": "edit", "path": path, "old": MODULE, "new": new},
        {"op": "done", "summary": "changed check"},
    ]
    text = "".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(ops, 1))
    target = tmp_path / "t.jsonl"
    target.write_text(json.dumps({"phase": "change", "text": text}) + "\n", encoding="utf-8")
    return target


def run_phase(tmp_path: Path, repo: Path, layout: str, new: str, *extra: str) -> int:
    path = module_path(layout)
    args = ["run", "--repo", str(repo), "--spec", str(spec_file(tmp_path, path))]
    args += ["--replay", str(transcript(tmp_path, path, new)), "--out", str(tmp_path / "out")]
    return main([*args, "--repair-rounds", "0", "--no-plugin-autoload", *extra])


def committed(repo: Path) -> list[str]:
    return git.Repo(repo).git.log("--format=%s", "autopack/change", "^main").splitlines()


@pytest.mark.parametrize("layout", ["src", "flat"])
def test_editable_install_breaking_phase_is_blocked_naming_the_test(
    tmp_path: Path, layout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    package_repo(repo, layout)
    python = editable_venv(tmp_path / "venv", repo)
    code = run_phase(tmp_path, repo, layout, BROKEN, "--test-python", str(python))
    out = capsys.readouterr().out
    assert code == 1, out
    assert committed(repo) == []
    assert "tests/test_tinycalc.py::test_negative_raises" in out
    assert (repo / module_path(layout)).read_text(encoding="utf-8") == MODULE


@pytest.mark.parametrize("layout", ["src", "flat"])
def test_editable_install_correct_phase_is_committed(
    tmp_path: Path, layout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    package_repo(repo, layout)
    python = editable_venv(tmp_path / "venv", repo)
    code = run_phase(tmp_path, repo, layout, BETTER, "--test-python", str(python))
    assert code == 0, capsys.readouterr()
    assert committed(repo) == ["autopack(change): Change check"]


GENERATED_TESTS = (
    "import pytest\n\nfrom tinycalc import check\nfrom tinycalc._generated import LIMIT\n\n\n"
    "def test_limit():\n    assert LIMIT == 10\n\n\n"
    "def test_negative_raises():\n    with pytest.raises(ValueError):\n        check(-1)\n"
)


def test_generated_file_repo_breaking_phase_is_blocked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The package imports a module generated at set-up time (untracked, like a setuptools-scm
    `_version.py`): a baseline taken from a `git archive` export would have failed every test
    and ignored the phase's new failure as pre-existing."""
    repo = tmp_path / "repo"
    package_repo(repo, "src", tests=GENERATED_TESTS)
    python = editable_venv(tmp_path / "venv", repo)
    (repo / "src/tinycalc/_generated.py").write_text("LIMIT = 10\n", encoding="utf-8")
    code = run_phase(tmp_path, repo, "src", BROKEN, "--test-python", str(python))
    out = capsys.readouterr().out
    assert code == 1, out
    assert "tests/test_tinycalc.py::test_negative_raises" in out
    assert committed(repo) == []
