"""The pytest runner against real pytest runs in throwaway folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopack.adapters.pytest_runner import PytestRunner
from autopack.core.gates.test_report import Outcome
from autopack.errors import SuiteRunError

SUITE = {
    "tests/test_mix.py": (
        "import pytest\n\n\n"
        "def helper():\n    raise ValueError('boom')\n\n\n"
        "def test_pass():\n    pass\n\n\n"
        "def test_fail():\n    x = 1\n    assert x == 2, 'x should be two'\n\n\n"
        "def test_helper():\n    helper()\n\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('fixture broke')\n\n\n"
        "def test_err(broken):\n    pass\n\n\n"
        "@pytest.mark.skip\ndef test_skip():\n    pass\n\n\n"
        "@pytest.mark.xfail\ndef test_xf():\n    assert 0\n\n\n"
        "@pytest.mark.xfail\ndef test_xp():\n    pass\n"
    ),
    "tests/test_import.py": "import not_a_module_anywhere\n\n\ndef test_x():\n    pass\n",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_outcomes_failures_and_collection_errors_are_typed(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", SUITE)
    runner = PytestRunner(plugin_autoload=False)
    report = runner.run(str(root))
    by_id = {t.node_id.split("::")[1]: t for t in report.tests}
    assert {k: v.outcome for k, v in by_id.items()} == {
        "test_pass": Outcome.passed,
        "test_fail": Outcome.failed,
        "test_helper": Outcome.failed,
        "test_err": Outcome.error,
        "test_skip": Outcome.skipped,
        "test_xf": Outcome.xfail,
        "test_xp": Outcome.xpass,
    }
    fail = by_id["test_fail"]
    assert fail.message == "AssertionError: x should be two"
    assert (fail.path, fail.line) == ("tests/test_mix.py", 14)
    assert (by_id["test_helper"].path, by_id["test_helper"].line) == ("tests/test_mix.py", 5)
    assert by_id["test_err"].message == "error in setup: RuntimeError: fixture broke"
    assert [(c.file, c.message) for c in report.collection_errors] == [
        ("tests/test_import.py", "ModuleNotFoundError: No module named 'not_a_module_anywhere'")
    ]
    assert runner.invocations == 1
    # Nothing written into the repo: no cache folder, no bytecode.
    assert sorted(p.name for p in root.rglob("*") if p.is_dir()) == ["tests"]


def test_runs_only_the_selected_node_ids(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"tests/test_mix.py": SUITE["tests/test_mix.py"]})
    report = PytestRunner(plugin_autoload=False).run(
        str(root), ["tests/test_mix.py::test_pass", "tests/test_mix.py::test_fail"]
    )
    assert sorted(t.node_id for t in report.tests) == [
        "tests/test_mix.py::test_fail",
        "tests/test_mix.py::test_pass",
    ]


def test_a_suite_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"conftest.py": "import nope_missing\n", "tests/test_a.py": ""})
    with pytest.raises(SuiteRunError, match=r"(?s)could not run: .*broken conftest.*nope_missing"):
        PytestRunner(plugin_autoload=False).run(str(root))
    with pytest.raises(SuiteRunError, match="cannot start the test command"):
        PytestRunner(plugin_autoload=False, python_exe=str(tmp_path / "no-such-python")).run(
            str(root)
        )
    with pytest.raises(SuiteRunError, match="cannot be parsed"):
        PytestRunner("python -m 'pytest")


def test_a_hanging_suite_is_killed_at_the_timeout(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {"tests/test_slow.py": "import time\n\n\ndef test_slow():\n    time.sleep(30)\n"},
    )
    with pytest.raises(SuiteRunError, match=r"did not finish within 1 s"):
        PytestRunner(timeout_s=1, plugin_autoload=False).run(str(root))


def test_no_tests_is_an_empty_report_with_installed_plugins_autoloaded(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"README.md": "# nothing\n"})
    report = PytestRunner().run(str(root))
    assert report.tests == () and report.collection_errors == () and report.exit_code == 5


SEES_ENV = (
    "import os\n\n\n"
    "def test_sees():\n"
    "    print(sorted(os.environ))\n"
    "    assert 'PATH' in os.environ and os.environ['PYTHONDONTWRITEBYTECODE'] == '1'\n"
    "    assert os.environ.get('MY_SERVICE_HOST') == 'db.local'\n\n\n"
    "def test_no_secret():\n"
    "    leaked = {k: v for k, v in os.environ.items() if 'TOKEN' in k or 'KEY' in k}\n"
    "    assert not leaked, leaked\n"
)


def test_the_tests_get_no_secret_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "INPUT_GITHUB_TOKEN": "ghs_secret_1",
        "INPUT_ANTHROPIC_API_KEY": "sk-ant-secret-2",
        "GITHUB_TOKEN": "ghs_secret_1",
        "ANTHROPIC_API_KEY": "sk-ant-secret-2",
        "MY_SERVICE_HOST": "db.local",
    }.items():
        monkeypatch.setenv(name, value)
    root = write(tmp_path / "repo", {"tests/test_env.py": SEES_ENV})
    plain = PytestRunner(plugin_autoload=False).run(str(root))
    assert {t.node_id.split("::")[1]: t.outcome for t in plain.tests} == {
        "test_sees": Outcome.failed,  # MY_SERVICE_HOST is not on the allow-list
        "test_no_secret": Outcome.passed,
    }
    allowed = PytestRunner(plugin_autoload=False, env_allow=("MY_SERVICE_HOST",)).run(str(root))
    assert all(t.outcome is Outcome.passed for t in allowed.tests), allowed.tests


def test_a_managed_environment_is_keyed_by_how_it_was_made(tmp_path: Path) -> None:
    one = PytestRunner(python_exe="/a/env/bin/python", env_key="managed-1")
    other_folder = PytestRunner(python_exe="/b/env/bin/python", env_key="managed-1")
    other_setup = PytestRunner(python_exe="/a/env/bin/python", env_key="managed-2")
    assert one.config_key == other_folder.config_key != other_setup.config_key
    assert (
        PytestRunner(python_exe="/a/python").config_key
        != PytestRunner(python_exe="/b/python").config_key
    )
