from __future__ import annotations

import json
from pathlib import Path

import git

from autopack.cli import main


def test_demo_pushes_one_commit_per_phase(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--dir", str(tmp_path / "d")]) == 0
    origin = git.Repo(tmp_path / "d" / "origin.git")
    subjects = origin.git.log("--format=%s", "autopack/demo", "^main").splitlines()
    assert subjects == [
        "autopack(settings): Document the settings",  # held, approved, committed on resume
        "autopack(docs): Document the operations",
        "autopack(power): Add power() built on mul()",
        "autopack(divide): Add div() built on mul()",
        "autopack(multiply): Add mul()",
    ]
    printed = capsys.readouterr()
    out = printed.out
    assert "Reports:" in out
    # Its summary covers the whole demo: the phases it built before the approval are its own.
    assert "(earlier run)" not in out and "- ✅ `multiply` committed" in out
    # One real continuation: `divide` is cut off by max_tokens mid-line and continued.
    assert "~ request 1 (build): max_tokens after 1 op(s)" in printed.err
    assert "~ request 2 (continue): end_turn" in printed.err
    assert "| `divide` | 2 | 1 | 0 |" in out
    telemetry = json.loads((tmp_path / "d" / "out" / "telemetry.json").read_text())
    assert telemetry["totals"]["continuations"] == 1 and telemetry["totals"]["requests"] == 7
    assert (tmp_path / "d" / "out" / "checks" / "multiply.json").exists()
    # The phase finalizer: `power`'s first attempt fails its validation test (real pytest), the
    # gates block it, and its repair round (same conversation) fixes it before the commit.
    assert "power: blocked (tests: validation test(s) failed: tests/test_power.py::test_power" in (
        printed.err
    )
    assert "power: repair round 1/1" in printed.err
    power = json.loads((tmp_path / "d" / "out" / "checks" / "power.json").read_text())
    assert power["conclusion"] == "success" and "| tests | pass |" in power["summary"]
    assert "| `power` | 2 | 0 | 1 |" in out
    # Governance: `settings` touches the protected `.env.example`; it is held (nothing written),
    # approved through the same code path as `autopack approve`, then resumed and committed.
    assert "settings: held for approval: .env.example" in printed.err
    assert "settings: approved, applying the held ops" in printed.err
    state = json.loads((tmp_path / "d" / "out" / "state.json").read_text())
    [request] = state["requests"]
    assert (request["state"], request["decided_by"], request["paths"]) == (
        "approved",
        "Demo Maintainer",
        [".env.example"],
    )
    audit = (tmp_path / "d" / "out" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["action"] for line in audit] == ["requested", "posted", "approved"]
    comment = (tmp_path / "d" / "out" / "comments" / f"{request['id']}.md").read_text()
    assert f"<!-- autopack:governance id={request['id']} head={request['head_sha']}" in comment


def test_demo_twice_in_one_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--dir", str(tmp_path / "d")]) == 0
    capsys.readouterr()
    assert main(["demo", "--dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert (
        "already holds origin.git, calc, out, spec.yaml, transcript.jsonl (an earlier demo?)" in err
    )
    assert "Traceback" not in err
    # A folder holding only a file the demo would write is refused too, and left as it was.
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "spec.yaml").write_text("mine\n", encoding="utf-8")
    assert main(["demo", "--dir", str(tmp_path / "e")]) == 1
    assert "already holds spec.yaml" in capsys.readouterr().err
    assert (tmp_path / "e" / "spec.yaml").read_text(encoding="utf-8") == "mine\n"
