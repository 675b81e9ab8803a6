"""Red team: a baseline cache that cannot be written fails every phase. DirBaselineStore says "a
corrupt cache never blocks a run", but its `save` raises SuiteRunError on any OSError (an
unwritable or full folder, a per-user ~/.cache on a read-only HOME, a typo in --baseline-cache);
the finalizer turns it into "the tests could not run at the base commit", blocks the phase and
spends a paid repair round on it, although the tests ran and passed. A cache is an optimisation:
failing to save one should be a warning."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from test_cli import A, B
from test_cli import files as files

from autopack.cli import main


def test_an_unwritable_baseline_cache_does_not_fail_the_phases(
    git_repo: Path,
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder's parent should be\n", encoding="utf-8")
    args = ["--baseline-cache", str(blocker / "cache"), "--no-plugin-autoload"]
    files["transcript"].write_text(A + B, encoding="utf-8")
    run = ["run", "--repo", str(git_repo), "--spec", str(files["spec"]), "--out", str(files["out"])]
    code = main([*run, "--replay", str(files["transcript"]), *args])
    err = capsys.readouterr().err
    assert code == 0, err
    log = git.Repo(git_repo).git.log("--format=%s", "autopack/feature", "^main").splitlines()
    assert log == ["autopack(b): Add b", "autopack(a): Add a"]
