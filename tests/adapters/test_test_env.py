"""The managed test environment: made with uv (or venv + pip without it), reused, and the setup
command run in it with no secret variables; failures are clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autopack.adapters.test_env import MARKER, make_env, run_setup
from autopack.errors import SetupError


def imports(python: str, *modules: str) -> bool:
    code = "import " + ", ".join(modules)
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def test_made_with_uv_then_reused(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    assert env.created and env.installer == "uv"
    assert imports(env.python, "pytest", "pytest_jsonreport")
    assert (tmp_path / "env" / "bin" / "pip").exists()  # `pip install ...` works in the setup
    assert (tmp_path / "env" / "bin" / "uv").exists()  # and so does `uv pip install ...`
    assert (tmp_path / "env" / ".gitignore").read_text(encoding="utf-8") == "*\n"
    assert (tmp_path / "env" / MARKER).is_file()
    again = make_env(tmp_path / "env")
    assert not again.created and again.python == env.python
    assert again.key("pip install -e .") == env.key("pip install -e .") != env.key("true")


def test_made_with_venv_and_pip_without_uv(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env", use_uv=False)
    assert env.created and env.installer == "pip"
    assert imports(env.python, "pytest", "pytest_jsonreport")
    assert not (tmp_path / "env" / "bin" / "uv").exists()


def test_the_setup_command_runs_in_the_env_in_the_repo_with_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INPUT_GITHUB_TOKEN", "ghs_secret_1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-2")
    monkeypatch.setenv("MY_SERVICE_HOST", "db.local")
    env = make_env(tmp_path / "env")
    repo = tmp_path / "repo"
    repo.mkdir()
    command = (
        'echo "$VIRTUAL_ENV" > where.txt; command -v python >> where.txt; '
        "command -v pip >> where.txt; env > env.txt"
    )
    run_setup(command, str(repo), env, env_allow=("MY_SERVICE_HOST",))
    where = (repo / "where.txt").read_text(encoding="utf-8").split()
    assert where == [str(env.folder), env.python, str(env.folder / "bin" / "pip")]
    seen = (repo / "env.txt").read_text(encoding="utf-8")
    assert "ghs_secret_1" not in seen and "sk-ant-secret-2" not in seen
    assert "MY_SERVICE_HOST=db.local" in seen


def test_a_failing_setup_gives_its_exit_status_and_output_tail(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    command = "for i in $(seq 1 40); do echo line $i; done; echo 'no such package' >&2; exit 3"
    with pytest.raises(SetupError) as info:
        run_setup(command, str(tmp_path), env)
    message = str(info.value)
    assert "failed with exit status 3" in message and "no such package" in message
    assert "line 40" in message and "line 10\n" not in message  # the tail only
    with pytest.raises(SetupError, match=r"did not finish within 0.5 s \(killed\)"):
        run_setup("echo started; sleep 30", str(tmp_path), env, timeout_s=0.5)


def test_a_folder_that_is_not_ours_is_never_deleted(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me\n", encoding="utf-8")
    with pytest.raises(SetupError, match=r"is not a test environment Autopack made"):
        make_env(mine)
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me\n"


def test_a_test_python_that_does_not_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"the test interpreter .*nope.* cannot run"):
        make_env(tmp_path / "env", base_python=str(tmp_path / "nope" / "python"))
    env = make_env(tmp_path / "env", base_python=sys.executable)
    assert env.base_python == str(Path(sys.executable).absolute())


def test_file_digests_hash_files_and_symlink_targets_never_following_them(tmp_path: Path) -> None:
    """The packaging fingerprint: a tracked `requirements.txt -> reqs/base.txt` symlink counts by
    its target (reading through it is refused elsewhere), a folder or a missing path is left out."""
    from autopack.adapters.test_env import file_digests

    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text("attrs\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    (tmp_path / "requirements.txt").symlink_to("reqs/base.txt")
    paths = ["pyproject.toml", "requirements.txt", "reqs", "missing.txt"]
    first = file_digests(str(tmp_path), paths)
    assert set(first) == {"pyproject.toml", "requirements.txt"}
    (tmp_path / "reqs" / "base.txt").write_text("attrs\nrich\n", encoding="utf-8")
    assert file_digests(str(tmp_path), paths) == first  # the link is the same link
    (tmp_path / "requirements.txt").unlink()
    (tmp_path / "requirements.txt").symlink_to("reqs/dev.txt")
    assert file_digests(str(tmp_path), paths)["requirements.txt"] != first["requirements.txt"]
