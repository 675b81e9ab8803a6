"""PhaseFinalizer on real git repos with real pytest runs (tests gates) and without tests (the
deliverables and manifest gates)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from autopack.adapters.git_workspace import GitWorkspace
from autopack.app.compose import GateSettings, build_finalizer
from autopack.core.edits.changeset import ChangeSet
from autopack.core.edits.ops import OP_ADAPTER
from autopack.core.gates.decision import GateStatus, PhaseDecision
from autopack.core.gates.manifest import check_symbols
from autopack.core.spec import Phase
from autopack.errors import SetupError
from support.pyrepos import commit_all, flaky_test, make_repo

CALC = "def add(a, b):\n    return a + b\n"
BASE = {
    "src/calc.py": CALC,
    "tests/test_calc.py": (
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_known_broken():\n    assert add(1, 1) == 3\n"
    ),
}


def apply(root: Path, ops: list[dict[str, Any]]) -> ChangeSet:
    """Apply ops as a phase would and write the result to the working tree."""
    ws = GitWorkspace(root)
    changes = ChangeSet(ws)
    for n, op in enumerate(ops, 1):
        result = changes.apply(OP_ADAPTER.validate_python({**op, "id": n}))
        assert result.status == "applied", result.describe()
    ws.write_changes({p: changes.changes[p] for p in changes.changed_paths()})
    return changes


def finalize(
    root: Path, phase: Phase, ops: list[dict[str, Any]], tests: bool = True, **kw: Any
) -> PhaseDecision:
    finalizer = build_finalizer(
        GitWorkspace(root), GateSettings(tests=tests, plugin_autoload=False, **kw)
    )
    finalizer.prepare()  # the baseline, before the phase's changes are written
    return finalizer.finalize(phase, apply(root, ops))


def gate(decision: PhaseDecision, name: str) -> tuple[GateStatus, str]:
    found = [g for g in decision.gates if g.gate == name]
    assert len(found) == 1, decision.gates
    return found[0].status, found[0].reason


PHASE = Phase(id="p", title="P")


def test_pre_existing_failure_is_ignored(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [{"op": "edit", "path": "src/calc.py", "old": "a + b", "new": "b + a"}]
    decision = finalize(tmp_path, PHASE, ops)
    assert not decision.blocked, decision.gates
    status, reason = gate(decision, "tests")
    assert status is GateStatus.passed and "1 pre-existing failure(s) ignored" in reason


def test_new_failure_blocks_with_an_annotation(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [{"op": "edit", "path": "src/calc.py", "old": "a + b", "new": "a - b"}]
    decision = finalize(tmp_path, PHASE, ops)
    status, reason = gate(decision, "tests")
    assert status is GateStatus.block
    assert reason.startswith("new failure(s): tests/test_calc.py::test_add (assert -1 == 5")
    assert [(a.path, a.start_line, a.annotation_level) for a in decision.annotations] == [
        ("tests/test_calc.py", 5, "failure")
    ]


def test_failure_in_validation_tests_blocks_naming_the_test(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    phase = Phase(id="mul", title="Mul", validation_tests=("tests/test_mul.py",))
    ops = [
        {
            "op": "edit",
            "path": "src/calc.py",
            "old": CALC,
            "new": CALC + "\n\ndef mul(a, b):\n    return a + b\n",
        },
        {
            "op": "write",
            "path": "tests/test_mul.py",
            "content": "from calc import mul\n\n\ndef test_mul():\n    assert mul(3, 4) == 12\n",
        },
    ]
    decision = finalize(tmp_path, phase, ops)
    status, reason = gate(decision, "tests")
    assert status is GateStatus.block
    assert "validation test(s) failed: tests/test_mul.py::test_mul" in reason
    assert "new failure(s)" not in reason


def test_missing_validation_test_blocks(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    phase = Phase(id="mul", title="Mul", validation_tests=("tests/test_mul.py",))
    ops = [{"op": "edit", "path": "src/calc.py", "old": "a + b", "new": "b + a"}]
    status, reason = gate(finalize(tmp_path, phase, ops), "tests")
    assert status is GateStatus.block and "not found in the run: tests/test_mul.py" in reason


def test_flaky_test_warns(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [{"op": "write", "path": "tests/test_flaky.py", "content": flaky_test(tmp_path / "m")}]
    decision = finalize(tmp_path, PHASE, ops)
    assert not decision.blocked, decision.gates
    status, reason = gate(decision, "tests")
    assert status is GateStatus.warn
    assert reason.startswith(
        "flaky (failed, then passed on a re-run): tests/test_flaky.py::test_flaky"
    )


def test_new_collection_error_blocks(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [
        {
            "op": "write",
            "path": "tests/test_broken.py",
            "content": "from calc import nothing_here\n",
        }
    ]
    decision = finalize(tmp_path, PHASE, ops)
    status, reason = gate(decision, "collection")
    assert status is GateStatus.block
    assert reason.startswith("new collection error(s): tests/test_broken.py: ImportError")
    assert any(a.path == "tests/test_broken.py" for a in decision.annotations)


def test_tests_that_cannot_run_block_with_the_reason(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [{"op": "edit", "path": "src/calc.py", "old": "a + b", "new": "b + a"}]
    # (a missing --test-python is refused when the gates are set up: the test below)
    missing = str(tmp_path / "missing-program")
    decision = finalize(tmp_path, PHASE, ops, test_command=f"{missing} -m pytest")
    status, reason = gate(decision, "tests")
    assert status is GateStatus.block and "cannot start the test command" in reason


def test_a_missing_test_python_is_refused_when_the_gates_are_set_up(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    missing = str(tmp_path / "missing-python")
    with pytest.raises(SetupError, match=f"the test interpreter {re.escape(missing)} cannot run"):
        build_finalizer(GitWorkspace(tmp_path), GateSettings(test_python=missing))


def test_deliverables_gate(tmp_path: Path) -> None:
    make_repo(tmp_path, {**BASE, "old.txt": "x\n", "keep.txt": "k\n"})
    phase = Phase.model_validate(
        {
            "id": "d",
            "title": "D",
            "deliverables": [
                {"path": "src/calc.py", "action": "modify"},
                {"path": "src/new.py", "action": "create"},
                {"path": "keep.txt", "action": "modify"},
                {"path": "old.txt", "action": "delete"},
            ],
        }
    )
    ops = [{"op": "edit", "path": "src/calc.py", "old": "a + b", "new": "b + a"}]
    status, reason = gate(finalize(tmp_path, phase, ops, tests=False), "deliverables")
    assert status is GateStatus.block
    assert reason == (
        "src/new.py (create) does not exist, keep.txt (modify) was not changed, "
        "old.txt should be deleted but still exists"
    )


def test_no_change_blocks_unless_allowed(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    same = [{"op": "write", "path": "src/calc.py", "content": CALC}]
    status, reason = gate(finalize(tmp_path, PHASE, same, tests=False), "deliverables")
    assert status is GateStatus.block and "changed no file" in reason
    allowed = Phase(id="p", title="P", allow_no_change=True)
    assert (
        gate(finalize(tmp_path, allowed, same, tests=False), "deliverables")[0] is GateStatus.passed
    )


def test_manifest_gate_blocks_a_missing_symbol_and_a_syntax_error(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [
        {
            "op": "write",
            "path": "src/retry.py",
            "content": "# class RetryPolicy is planned\nDOC = 'def backoff(): pass'\n\n\nasync def fetch():\n    pass\n",
        },
        {"op": "write", "path": "src/bad.py", "content": "def oops(:\n    pass\n"},
        {"op": "write", "path": "docs/notes.md", "content": "Use `fetch_all` to fetch.\n"},
        {
            "op": "manifest",
            "files": [
                {"path": "src/retry.py", "symbols": ["fetch", "DOC", "RetryPolicy", "backoff"]},
                {"path": "src/bad.py", "symbols": ["oops"]},
                {"path": "docs/notes.md", "symbols": ["fetch_all", "fetch_one"]},
                {"path": "src/ghost.py", "symbols": ["x"]},
            ],
        },
    ]
    decision = finalize(tmp_path, PHASE, ops, tests=False)
    status, reason = gate(decision, "manifest")
    assert status is GateStatus.block
    assert reason == (
        "src/retry.py does not define RetryPolicy, backoff, "
        "syntax error: src/bad.py:1: invalid syntax, "
        "docs/notes.md does not define fetch_one, src/ghost.py does not exist"
    )
    assert ("src/bad.py", 1) in [(a.path, a.start_line) for a in decision.annotations]


def test_manifest_naming_no_regular_file_blocks_instead_of_raising(tmp_path: Path) -> None:
    """A symlink, a FIFO, a folder, a path under a file or through a folder symlink: the gate
    blocks naming each path (reading them raises PathPolicyError, which must not abort a run)."""
    repo = make_repo(tmp_path, BASE)
    os.symlink("src/calc.py", tmp_path / "link.py")
    os.symlink("src", tmp_path / "srclink")
    commit_all(repo, "symlinks")
    os.mkfifo(tmp_path / "pipe.py")
    ops = [
        {"op": "write", "path": "src/new.py", "content": "X = 1\n"},
        {
            "op": "manifest",
            "files": [
                {"path": p, "symbols": ["add"]}
                for p in ["link.py", "pipe.py", "src", "src/calc.py/x.py", "srclink/calc.py"]
            ],
        },
    ]
    decision = finalize(tmp_path, PHASE, ops, tests=False)
    status, reason = gate(decision, "manifest")
    assert status is GateStatus.block
    needles = [
        "path 'link.py' is a symlink",
        "path 'pipe.py' is not a regular file (a FIFO",
        "path 'src' is a directory",
        "path 'src/calc.py/x.py': a parent is a file",
        "path 'srclink/calc.py' goes through the symlink 'srclink'",
    ]
    assert [reason.find(n) for n in needles] == sorted(reason.find(n) for n in needles), reason
    assert all(n in reason for n in needles), reason


def test_deliverable_through_a_folder_symlink_blocks_instead_of_raising(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, BASE)
    os.symlink("src", tmp_path / "srclink")
    commit_all(repo, "symlink")
    phase = Phase.model_validate(
        {"id": "d", "title": "D", "deliverables": [{"path": "srclink/new.py"}]}
    )
    ops = [{"op": "write", "path": "src/new.py", "content": "X = 1\n"}]
    status, reason = gate(finalize(tmp_path, phase, ops, tests=False), "deliverables")
    assert status is GateStatus.block
    assert reason.startswith("path 'srclink/new.py' goes through the symlink 'srclink'"), reason


def test_manifest_symbols_by_ast() -> None:
    source = (
        "from typing import Final\n"
        "import os.path as osp\n"
        "LIMIT: Final = 3\n"
        "a, (b, *c) = 1, (2, 3)\n"
        "if True:\n    FLAG = 1\n"
        "class Retry:\n    attempts: int = 3\n    def delay(self):\n        inner = 1\n"
        "def outer():\n    local_only = 2\n"
    )
    found = check_symbols(
        "m.py",
        source,
        [
            "Final",
            "osp",
            "LIMIT",
            "a",
            "b",
            "c",
            "FLAG",
            "Retry",
            "Retry.attempts",
            "delay",
            "Retry.delay",
            "outer",
            "inner",
            "local_only",
            "Retry.nope",
        ],
    )
    assert found.missing == ("inner", "local_only", "Retry.nope")
    assert check_symbols("x.txt", "call foo_bar()", ["foo", "foo_bar"]).missing == ("foo",)


def test_lint_warns_on_changed_python_files(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    ops = [
        {
            "op": "write",
            "path": "src/extra.py",
            "content": "import os\n\n\ndef f():\n    return 1\n",
        }
    ]
    decision = finalize(tmp_path, PHASE, ops, tests=False, lint=True)
    status, reason = gate(decision, "quality")
    assert status is GateStatus.warn and "src/extra.py:1 F401" in reason
    assert not decision.blocked


def test_coverage_drop_warns(tmp_path: Path) -> None:
    make_repo(tmp_path, BASE)
    untested = "\n\ndef unused(x):\n    if x:\n        return 1\n    return 2\n" * 3
    ops = [{"op": "edit", "path": "src/calc.py", "old": CALC, "new": CALC + untested}]
    decision = finalize(tmp_path, PHASE, ops, coverage=True)
    status, reason = gate(decision, "quality")
    assert status is GateStatus.warn and reason.startswith("coverage dropped from ")
    assert not decision.blocked
