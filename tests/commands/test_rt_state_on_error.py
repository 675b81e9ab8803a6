"""Red team: the run state is written only when a run ends normally (executor.run's last line). A
run that stops on an error after its phases ran (here: `--push` to an origin that refuses) leaves
no state.json and no telemetry.json: the held phase's pending request cannot be approved, the
phases' cost is lost, and `autopack resume` says there is no run."""

from __future__ import annotations

from pathlib import Path

from test_governance_cli import OPS, SPEC, World

from autopack.cli import main


def test_a_failed_push_still_saves_the_run_state_and_telemetry(
    git_repo: Path, tmp_path: Path
) -> None:
    w = World(git_repo, tmp_path, SPEC, OPS)
    w.git.git.remote("set-url", "origin", str(tmp_path / "gone.git"))
    code = w.cli("run", "--push")
    assert code == 1  # the push failed: an error, fine
    # ... but what the run did (a committed phase, a held one, their cost) is on record.
    assert (w.out / "telemetry.json").is_file()
    assert (w.out / "state.json").is_file()
    [request] = w.state().requests
    assert (
        main(["approve", request.id, "--by", "ana", "--out", str(w.out), "--repo", str(w.repo)])
        == 0
    )
