"""Throwaway git repos holding small pytest suites, for the runner, baseline and finalizer tests."""

from __future__ import annotations

from pathlib import Path

import git

PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["src"]\n'


def write_files(root: Path, files: dict[str, str | None]) -> None:
    """Write (or, for None, delete) files under root."""
    for rel, text in files.items():
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_repo(root: Path, files: dict[str, str | None]) -> git.Repo:
    """A git checkout with one commit on main holding `files` (plus a pytest config)."""
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.invalid")
    write_files(root, {"pyproject.toml": PYPROJECT, **files})
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "initial")
    return repo


def commit_all(repo: git.Repo, message: str = "change") -> str:
    repo.git.add("-A")
    repo.git.commit("-q", "-m", message)
    return str(repo.head.commit.hexsha)


def flaky_test(marker: Path, name: str = "test_flaky") -> str:
    """A test that fails on its first run (creating `marker`) and passes on the next ones."""
    return (
        "from pathlib import Path\n\n"
        f"MARKER = Path({str(marker)!r})\n\n\n"
        f"def {name}():\n"
        "    if not MARKER.exists():\n"
        "        MARKER.write_text('ran once')\n"
        "        raise AssertionError('fails on the first run only')\n"
    )
