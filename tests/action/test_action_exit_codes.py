"""Exit codes of `autopack action` (action/exit_codes.py), the conclusions action.yml documents,
and the signal guard of a cancelled run (action/cancel.py)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from action_world import World, make_world, spec_body

from autopack.action.cancel import CancelGuard, Cancelled
from autopack.action.exit_codes import EXIT_CODES, exit_code

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    yield from make_world(tmp_path, monkeypatch, capsys)


def test_every_documented_conclusion_has_its_exit_code() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    described = action["outputs"]["conclusion"]["description"]
    for conclusion, code in EXIT_CODES.items():
        assert re.search(rf"\b{conclusion} \({code}\b", described), conclusion
    assert exit_code("action_required") not in (0, exit_code("failure"))
    assert len({exit_code(c) for c in ("failure", "action_required", "config_error")}) == 3
    assert exit_code("no such conclusion") == exit_code("failure")


def test_a_held_run_and_a_failed_run_exit_with_different_codes(world: World) -> None:
    world.defaults["test_command"] = "none"
    held = world.label_issue(
        world.state.create_issue("Owners", spec_body("owners")), "autopack", "maint"
    )
    assert (held.code, held.outputs["conclusion"]) == (3, "action_required"), held.stdout
    world.defaults["test_command"] = ""  # the test gate: the phase's own test fails
    failed = world.label_issue(
        world.state.create_issue("Broken", spec_body("broken")), "autopack", "maint"
    )
    assert (failed.code, failed.outputs["conclusion"]) == (1, "failure"), failed.stdout


def test_a_bad_input_exits_2_with_its_conclusion(world: World) -> None:
    n = world.state.create_issue("Mul", spec_body("multiply"))
    world.defaults["max_cost_usd"] = "lots"
    fired = world.label_issue(n, "autopack", "maint")
    assert fired.code == 2
    assert fired.outputs["conclusion"] == "config_error"
    assert "::error::Autopack stopped: invalid action inputs: input max_cost_usd" in fired.stdout
    assert "input max_cost_usd" in fired.summary
    assert world.branch_log("autopack/issue-1") == []


def test_the_first_signal_cancels_and_later_ones_are_ignored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with CancelGuard() as guard:
        with pytest.raises(Cancelled) as info:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # let the handler run (it runs between bytecodes)
        assert info.value.exit_code == 143 and info.value.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)  # GitHub's second signal: no second Cancelled
        assert guard.exit_code(0) == 143
    assert signal.getsignal(signal.SIGTERM) is before
    with CancelGuard() as quiet:
        pass
    assert quiet.exit_code(3) == 3 and Cancelled(signal.SIGINT).exit_code == 130
