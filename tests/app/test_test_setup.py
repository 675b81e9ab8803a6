"""The managed environment's setup is re-run when the packaging files change (app/test_setup.py),
and which files count as packaging (core/gates/packaging.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from autopack.app.test_setup import SetupAwareRunner
from autopack.core.gates.packaging import is_packaging_file
from autopack.core.gates.test_report import SuiteReport
from autopack.errors import SetupError


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "uv.lock",
        "poetry.lock",
        "Pipfile",
        "environment.yml",
        "requirements.txt",
        "requirements-dev.txt",
        "requirements/test.txt",
        "requirements/base.in",
        "constraints.txt",
        "packages/core/pyproject.toml",
    ],
)
def test_packaging_files(path: str) -> None:
    assert is_packaging_file(path)


@pytest.mark.parametrize(
    "path",
    ["src/setup_utils.py", "docs/requirements.md", "notes.txt", "tox.ini", "src/pyproject.py"],
)
def test_not_packaging_files(path: str) -> None:
    assert not is_packaging_file(path)


class Suite:
    """A suite runner that records what ran, in order, into a shared log."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @property
    def config_key(self) -> str:
        return "suite"

    def run(self, root: str, select: Sequence[str] | None = None) -> SuiteReport:
        self.log.append("tests")
        return SuiteReport()


def test_setup_runs_again_only_when_the_packaging_changed_and_until_it_succeeds() -> None:
    log: list[str] = []
    tree = {"pyproject.toml": "a"}
    failing = [False]
    messages: list[str] = []

    def setup() -> float:
        log.append("setup")
        if failing[0]:
            raise SetupError("the setup command failed with exit status 1")
        return 0.5

    runner = SetupAwareRunner(
        Suite(log), setup, lambda: dict(tree), baseline=dict(tree), progress=messages.append
    )
    assert runner.config_key == "suite"
    runner.run("/repo")
    assert log == ["tests"]  # the packaging is what the first setup ran on
    tree["pyproject.toml"] = "b"  # a phase changes it
    runner.run("/repo")
    runner.run("/repo")
    assert log == ["tests", "setup", "tests", "tests"] and runner.reruns == 1
    assert messages[0] == "autopack: pyproject.toml changed: running the setup command again"
    # The phase is undone (its tree goes back): the next run sets up from that tree again; a
    # failure is raised (the test gate reports it) and the setup is tried again on the next run.
    tree["pyproject.toml"] = "a"
    tree["requirements.txt"] = "x"
    failing[0] = True
    with pytest.raises(SetupError, match="exit status 1"):
        runner.run("/repo")
    failing[0] = False
    assert "pyproject.toml, requirements.txt changed" in messages[-1]
    # The failed setup is never taken for a current one, even with the tree back as it was.
    tree.pop("requirements.txt")
    tree["pyproject.toml"] = "b"
    runner.run("/repo")
    assert log[-3:] == ["setup", "setup", "tests"] and runner.reruns == 2
    assert messages[-2] == "autopack: the last setup failed: running the setup command again"


def test_what_the_setup_itself_writes_is_part_of_what_it_ran_on() -> None:
    """A setup that writes a lock file (uv sync, poetry install) is not run again for it."""
    log: list[str] = []
    tree = {"pyproject.toml": "a"}

    def setup() -> float:
        log.append("setup")
        tree["uv.lock"] = "locked " + tree["pyproject.toml"]
        return 0.1

    runner = SetupAwareRunner(
        Suite(log), setup, lambda: dict(tree), baseline={"pyproject.toml": "a"}
    )
    tree["pyproject.toml"] = "b"
    runner.run("/repo")
    runner.run("/repo")
    assert log == ["setup", "tests", "tests"]
