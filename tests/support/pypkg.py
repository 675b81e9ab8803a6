"""Installable throwaway packages (src or flat layout) in git repos, and virtual environments where
they are installed in editable mode (with uv, as a user's CI would with pip), for the tests of the
managed test environment and of the baseline."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git

from support.pyrepos import make_repo

NAME = "tinycalc"
MODULE = "def check(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n"
TESTS = (
    "import pytest\n\nfrom tinycalc import check\n\n\n"
    "def test_positive():\n    assert check(2) == 2\n\n\n"
    "def test_negative_raises():\n    with pytest.raises(ValueError):\n        check(-1)\n"
)
BROKEN = MODULE.replace("        raise ValueError('negative')\n", "        pass\n")
BETTER = MODULE + "\n\ndef double(x):\n    return 2 * check(x)\n"


def pyproject(test_deps: tuple[str, ...] = ()) -> str:
    deps = ", ".join(f'"{d}"' for d in test_deps)
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{NAME}"\nversion = "0.1"\n\n'
        f"[project.optional-dependencies]\ntest = [{deps}]\n\n"
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )


def module_path(layout: str) -> str:
    return f"src/{NAME}/__init__.py" if layout == "src" else f"{NAME}/__init__.py"


def package_repo(
    root: Path, layout: str = "src", *, tests: str = TESTS, test_deps: tuple[str, ...] = ()
) -> git.Repo:
    """A repo holding the `tinycalc` package (src/ or flat layout) and tests that import it as an
    installed package (no pythonpath setting)."""
    files = {module_path(layout): MODULE, "tests/test_tinycalc.py": tests}
    repo = make_repo(root, files)
    (root / "pyproject.toml").write_text(pyproject(test_deps), encoding="utf-8")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "packaging")
    return repo


def uv(*args: str) -> None:
    from uv import find_uv_bin

    subprocess.run([find_uv_bin(), *args], check=True, capture_output=True, text=True)


def editable_venv(folder: Path, repo: Path) -> Path:
    """A venv with pytest, pytest-json-report and `repo` installed in editable mode; its python."""
    uv("venv", "-q", str(folder))
    python = folder / "bin" / "python"
    uv(
        "pip",
        "install",
        "-q",
        "--python",
        str(python),
        "pytest",
        "pytest-json-report",
        "-e",
        str(repo),
    )
    return python


DEP_TESTS = (
    "import pytest\n\nfrom tinycalc import check\nfrom tinydep import offset\n\n\n"
    "def test_positive():\n    assert check(2) + offset() == 2\n\n\n"
    "def test_negative_raises():\n    with pytest.raises(ValueError):\n        check(-1)\n"
)


def local_dependency(root: Path, name: str = "tinydep") -> Path:
    """A tiny installable package in `root` (a local path pip can install: no index needed for
    it), which Autopack's own environment does not have."""
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("def offset():\n    return 0\n", encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\n\n'
        f'[tool.setuptools]\npackages = ["{name}"]\n',
        encoding="utf-8",
    )
    return root


def repo_with_dependency(root: Path, dep: Path) -> git.Repo:
    """The tinycalc repo whose tests import `tinydep`, declared in its `test` extra by path."""
    return package_repo(
        root, "src", tests=DEP_TESTS, test_deps=(f"tinydep @ {dep.absolute().as_uri()}",)
    )
