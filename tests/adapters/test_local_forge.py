"""The local Forge: PR, comments edited in place, check runs (JSON + Markdown), artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopack.adapters.local_forge import LocalForge
from autopack.core.checks import Annotation, CheckRun
from autopack.errors import ForgeError


def test_pull_request_is_created_then_updated(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path / "out")
    ref = forge.ensure_pull_request("autopack/x", "main", "Title", "first body")
    assert ref.number == 1 and ref.draft
    again = forge.ensure_pull_request("autopack/x", "main", "Title 2", "second body", draft=False)
    assert again.number == 1 and not again.draft
    data = json.loads((tmp_path / "out" / "pr.json").read_text(encoding="utf-8"))
    assert data == {
        "number": 1,
        "head": "autopack/x",
        "base": "main",
        "title": "Title 2",
        "draft": False,
        "body": "second body",
    }
    md = (tmp_path / "out" / "pr.md").read_text(encoding="utf-8")
    assert md.startswith("# Title 2\n") and "second body" in md and "first body" not in md


def test_comments_are_edited_in_place(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path)
    forge.upsert_comment("summary", "one")
    forge.upsert_comment("summary", "two")
    forge.upsert_comment("Governance request #1", "gov")
    assert forge.comments() == {"governance-request-1": "gov", "summary": "two"}


def test_check_run_json_and_markdown(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path)
    check = CheckRun(
        name="Autopack / types",
        head_sha="a" * 40,
        conclusion="failure",
        title="failed: tests",
        summary="1 test failed",
        annotations=(
            Annotation(
                path="src/a.py",
                start_line=3,
                end_line=3,
                annotation_level="failure",
                message="boom",
            ),
        ),
    )
    forge.publish_check_run(check)
    saved = json.loads((tmp_path / "checks" / "types.json").read_text(encoding="utf-8"))
    assert CheckRun.model_validate(saved) == check
    md = (tmp_path / "checks" / "types.md").read_text(encoding="utf-8")
    assert "failed: tests" in md and "1 test failed" in md and "src/a.py" in md
    forge.publish_check_run(check.model_copy(update={"conclusion": "success", "title": "ok"}))
    saved = json.loads((tmp_path / "checks" / "types.json").read_text(encoding="utf-8"))
    assert saved["conclusion"] == "success"
    assert sorted(p.name for p in (tmp_path / "checks").iterdir()) == ["types.json", "types.md"]


def test_artifacts(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path)
    where = forge.save_artifact("patches/p1.patch", "diff --git a/x b/x\n")
    assert Path(where) == tmp_path / "patches" / "p1.patch"
    assert Path(where).read_text(encoding="utf-8") == "diff --git a/x b/x\n"
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x", encoding="utf-8")
    with pytest.raises(ForgeError, match="cannot create output folder"):
        LocalForge(tmp_path / "out")
