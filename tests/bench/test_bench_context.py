"""`autopack bench context`: records at a parent commit of a bundled repo, recall of the truth
names in the printed request, size against the deliverables-only prompt measured in the same run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from autopack.bench.context import percentile, shown
from autopack.cli import main
from support.pyrepos import commit_all, make_repo, write_files


def test_shown_follows_the_scoring_rule() -> None:
    text = "def helper(x): ...\n  LIMIT = 3\nib = attr = attrib\nclass Thing(Base):\n"
    assert shown(text, "helper") and shown(text, "LIMIT") and shown(text, "Thing")
    assert shown(text, "ib") and not shown(text, "attr")  # a chained target is not at the start
    assert not shown(text, "help") and not shown("x = helper(1)\n", "helper")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.9) == 5 and percentile([], 0.5) == 0.0


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    repo = make_repo(
        tmp_path / "src",
        {
            "pkg/__init__.py": "",
            "pkg/util.py": "def clamp(x: int, lo: int, hi: int) -> int:\n    return x\n",
            "pkg/core.py": "from pkg.util import clamp\n\n\ndef run(x):\n    return clamp(x, 0, 9)\n",
        },
    )
    parent = commit_all(repo, "parent") if repo.is_dirty() else repo.head.commit.hexsha
    write_files(
        tmp_path / "src",
        {"pkg/core.py": "from pkg.util import clamp\n\n\ndef run(x):\n    return clamp(x, 1, 9)\n"},
    )
    commit_all(repo, "change")
    folder = tmp_path / "bench"
    (folder / "repos").mkdir(parents=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path / "src"),
            "bundle",
            "create",
            str(folder / "repos" / "p.bundle"),
            "main",
        ],
        check=True,
        capture_output=True,
    )
    spec = {
        "goal": "Clamp from 1",
        "phases": [
            {"id": "change", "title": "Clamp from 1", "deliverables": [{"path": "pkg/core.py"}]}
        ],
    }
    records = [
        {"id": "p@1", "repo": "p", "bundle": "repos/p.bundle", "parent": parent, "spec": spec,
         "truth": [{"name": "clamp", "paths": ["pkg/util.py"]}]},
        {"id": "p@2", "repo": "p", "bundle": "repos/p.bundle", "parent": parent, "spec": spec,
         "truth": []},
    ]  # fmt: skip
    path = folder / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_bench_context_measures_recall_and_growth_against_the_baseline(
    cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "context", "--cases", str(cases), "--details"]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split("|")[1].strip(): line.split("|")[2:]
        for line in out.splitlines()
        if line.startswith("| ")
    }
    assert rows["deliverables only"][0].strip() == "0.00"  # `clamp` is only imported, not shown
    assert rows["context engine"][0].strip() == "1.00"
    assert rows["context engine"][1].strip() == "1"  # one commit with truth
    assert int(rows["context engine"][4].strip().replace(",", "")) > 0  # median growth
    assert int(rows["deliverables only"][4].strip()) == 0
    assert "p@1:" in out and "recall 1.00 (was 0.00)" in out
    assert "2 commits" in out
