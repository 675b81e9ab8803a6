"""`autopack run --setup-command`: a managed test environment for a repo whose tests import a
package Autopack's own environment lacks; a phase that breaks a test is blocked naming it, a
correct one is committed, nothing the setup made is committed; a failing setup stops the run
before any model call. And the gates' cost: telemetry, check run, progress, per-user cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from autopack.cli import main
from support.messages_server import MessagesServer
from support.pypkg import (
    BETTER,
    BROKEN,
    MODULE,
    local_dependency,
    module_path,
    repo_with_dependency,
)

PATH = module_path("src")
SETUP = "pip install -q -e '.[test]'"


def ndjson(ops: list[dict[str, Any]]) -> str:
    return "".join(json.dumps({**o, "id": n}) + "\n" for n, o in enumerate(ops, 1))


def edit(new: str) -> str:
    return ndjson([{"op": "edit", "path": PATH, "old": MODULE, "new": new}, {"op": "done"}])


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    deliverables = [{"path": PATH, "action": "modify"}]
    spec = {
        "goal": "Change tinycalc",
        "phases": [
            {"id": "break", "title": "Break check", "deliverables": deliverables},
            {"id": "double", "title": "Add double", "deliverables": deliverables},
        ],
    }
    spec_file = tmp_path / "calc.yaml"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    transcript = tmp_path / "t.jsonl"
    records = [{"phase": "break", "text": edit(BROKEN)}, {"phase": "double", "text": edit(BETTER)}]
    transcript.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return spec_file, transcript


def run(tmp_path: Path, repo: Path, *extra: str) -> int:
    spec_file, transcript = write_inputs(tmp_path)
    args = ["run", "--repo", str(repo), "--spec", str(spec_file), "--replay", str(transcript)]
    args += ["--out", str(tmp_path / "out"), "--repair-rounds", "0", "--no-plugin-autoload"]
    return main([*args, *extra])


def test_setup_command_installs_what_the_tests_import_and_the_gates_judge_in_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], user_cache: Path
) -> None:
    repo = tmp_path / "repo"
    repo_with_dependency(repo, local_dependency(tmp_path / "tinydep"))
    code = run(tmp_path, repo, "--setup-command", SETUP)
    out, err = capsys.readouterr()
    assert code == 1, out + err  # `break` failed, `double` committed
    assert f"test environment {tmp_path / 'out' / 'test-env'} made with uv" in err
    assert "autopack: setup command finished in" in err and "never committed" in err
    assert "`break` failed" in out and "tests/test_tinycalc.py::test_negative_raises" in out
    assert "`double` committed" in out
    log = git.Repo(repo).git.log("--format=%s", "autopack/calc", "^main").splitlines()
    assert log == ["autopack(double): Add double"]
    tree = git.Repo(repo).git.ls_tree("-r", "--name-only", "autopack/calc").splitlines()
    assert not [p for p in tree if "egg-info" in p or p.startswith("build/")]
    assert (repo / "src" / "tinycalc.egg-info").is_dir()  # made by the setup, left alone

    # The gates' cost: in the progress output, the telemetry and the check run.
    assert "    tests: 3 test-suite run(s)" in err  # break: baseline, run, re-run
    assert "baseline cache miss" in err and "    tests: 1 test-suite run(s)" in err
    telemetry = json.loads((tmp_path / "out" / "telemetry.json").read_text(encoding="utf-8"))
    rows = {p["phase_id"]: p for p in telemetry["phases"]}
    assert (rows["break"]["test_runs"], rows["break"]["baseline_cache"]) == (3, "miss")
    assert (rows["double"]["test_runs"], rows["double"]["baseline_cache"]) == (1, "hit")
    assert rows["break"]["tests_executed"] == 2 + 2 + 1 and rows["double"]["tests_executed"] == 2
    assert telemetry["totals"]["test_runs"] == 4
    assert telemetry["totals"]["baseline_cache_hits"] == 1
    check = (tmp_path / "out" / "checks" / "double.md").read_text(encoding="utf-8")
    assert "Test gates: 1 test-suite run(s), 2 test(s) executed" in check
    assert "baseline cache hit" in check
    assert "| suite runs | tests | test s | baseline |" in out
    # The baselines went to the per-user cache ($XDG_CACHE_HOME), keyed by repo and SHA: the base
    # commit's, and the committed phase's gated run (the baseline of what comes after it).
    cached = (user_cache / "autopack" / "baselines").glob("repo-*/*.json")
    shas = {p.name.split("-")[0] for p in cached}
    assert shas == {git.Repo(repo).rev_parse(ref).hexsha for ref in ("main", "autopack/calc")}
    assert not (tmp_path / "out" / "baseline-cache").exists()


def test_a_second_run_reuses_the_environment_and_the_cached_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo_with_dependency(repo, local_dependency(tmp_path / "tinydep"))
    fast = "uv pip install -q -e '.[test]'"  # uv is on the setup command's PATH
    assert run(tmp_path, repo, "--setup-command", fast, "--run-id", "one") == 1
    capsys.readouterr()
    git.Repo(repo).heads["main"].checkout()
    assert run(tmp_path, repo, "--setup-command", fast, "--run-id", "two") == 1
    err = capsys.readouterr().err
    assert f"test environment {tmp_path / 'out' / 'test-env'} reused" in err
    # break: no baseline run (a cache hit), its run and the re-run of the new failure
    assert "    tests: 2 test-suite run(s), 3 test(s) executed" in err
    assert "baseline cache miss" not in err


def test_a_failing_setup_stops_the_run_before_any_model_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo_with_dependency(repo, local_dependency(tmp_path / "tinydep"))
    with MessagesServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        argv = ["run", "--repo", str(repo), "--goal", "Add double", "--out", str(tmp_path / "o")]
        code = main(
            [*argv, "--setup-command", "echo installing; echo 'boom: no wheel' >&2; exit 7"]
        )
        assert server.message_requests == []
    err = capsys.readouterr().err
    assert code == 1
    assert "autopack: error: the setup command" in err and "failed with exit status 7" in err
    assert "installing" in err and "boom: no wheel" in err
    assert "Traceback" not in err
    assert git.Repo(repo).active_branch.name == "main"


def test_a_setup_that_changes_tracked_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo_with_dependency(repo, local_dependency(tmp_path / "tinydep"))
    assert run(tmp_path, repo, "--setup-command", "echo '# generated' >> pyproject.toml") == 1
    err = capsys.readouterr().err
    assert "the setup command changed tracked files: pyproject.toml (put back)" in err
    assert "building" not in err  # no phase started
    assert git.Repo(repo).git.status("--porcelain", "--untracked-files=no") == ""


def test_bad_test_env_allow_names_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run(tmp_path, tmp_path, "--test-env-allow", "GITHUB_TOKEN")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --test-env-allow: GITHUB_TOKEN can never be given to the tests" in err


EXTRA_TEST = "from tinyextra import offset\n\n\ndef test_extra():\n    assert offset() == 0\n"


def _extra_phase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, lock: bool = False
) -> tuple[int, str, str, Path]:
    """A run of one phase that adds `tinyextra` to the test extra and a test importing it."""
    repo = tmp_path / "repo"
    git_repo = repo_with_dependency(repo, local_dependency(tmp_path / "tinydep"))
    if lock:
        (repo / "uv.lock").write_text("version = 1\n", encoding="utf-8")
        git_repo.git.add("uv.lock")
        git_repo.git.commit("-q", "-m", "lock")
    extra = local_dependency(tmp_path / "tinyextra", name="tinyextra")
    text = (repo / "pyproject.toml").read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("test = ["))
    new = old.replace('"]', f'", "tinyextra @ {extra.absolute().as_uri()}"]')
    ops = [
        {"op": "edit", "path": "pyproject.toml", "old": old, "new": new},
        {"op": "write", "path": "tests/test_extra.py", "content": EXTRA_TEST},
        {"op": "done"},
    ]
    deliverables = [
        {"path": "pyproject.toml", "action": "modify"},
        {"path": "tests/test_extra.py", "action": "create"},
    ]
    spec = {"goal": "Use tinyextra", "phases": [{"id": "extra", "title": "Add tinyextra",
                                                 "deliverables": deliverables}]}  # fmt: skip
    spec_file = tmp_path / "extra.yaml"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(json.dumps({"phase": "extra", "text": ndjson(ops)}) + "\n", "utf-8")
    args = ["run", "--repo", str(repo), "--spec", str(spec_file), "--replay", str(transcript)]
    args += ["--out", str(tmp_path / "out"), "--repair-rounds", "0", "--no-plugin-autoload"]
    code = main([*args, "--setup-command", setup])
    out, err = capsys.readouterr()
    return code, out, err, repo


def test_a_phase_that_adds_a_dependency_gets_the_setup_run_again_before_its_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The phase adds `tinyextra` to the test extra and a test importing it: the setup command runs
    again before the phase's tests (its packaging changed), so the new test passes."""
    code, out, err, repo = _extra_phase(tmp_path, capsys, "uv pip install -q -e '.[test]'")
    assert code == 0, out + err
    assert "autopack: pyproject.toml changed: running the setup command again" in err
    assert err.count("autopack: setup command finished in") == 2
    assert "`extra` committed" in out
    tree = git.Repo(repo).git.ls_tree("-r", "--name-only", "autopack/extra").splitlines()
    assert "tests/test_extra.py" in tree


def test_a_setup_rerun_that_rewrites_a_tracked_lock_blocks_the_phase_and_puts_it_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like `uv sync` updating uv.lock for the phase's new dependency: the phase is blocked with
    the reason, uv.lock is put back, and nothing of it is committed."""
    setup = (
        "uv pip install -q -e '.[test]' && "
        "if grep -q tinyextra pyproject.toml; then echo '# tinyextra' >> uv.lock; fi"
    )
    code, out, err, repo = _extra_phase(tmp_path, capsys, setup, lock=True)
    assert code == 1, out + err
    assert "the setup command changed tracked files: uv.lock (put back)" in out
    assert (repo / "uv.lock").read_text(encoding="utf-8") == "version = 1\n"
    assert (
        "autopack/extra" not in [h.name for h in git.Repo(repo).heads]
        or git.Repo(repo).git.log("--format=%s", "autopack/extra", "^main") == ""
    )
