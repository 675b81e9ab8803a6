"""Linter adapter: `ruff check --output-format json` on a phase's changed Python files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from autopack.core.gates.decision import LintIssue
from autopack.errors import SuiteRunError


class RuffLinter:
    def __init__(self, executable: str | None = None, timeout_s: float = 120.0) -> None:
        found = executable or shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
        self.executable = found
        self.timeout_s = timeout_s

    def lint(self, root: str, paths: Sequence[str]) -> list[LintIssue]:
        if not paths:
            return []
        args = [self.executable, "check", "--no-cache", "--output-format", "json", "--", *paths]
        try:
            proc = subprocess.run(
                args, cwd=root, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SuiteRunError(f"cannot run ruff ({self.executable}): {exc}") from exc
        try:
            items = json.loads(proc.stdout or "[]")
        except ValueError:
            raise SuiteRunError(
                f"ruff gave no JSON (exit {proc.returncode}): {proc.stderr[-300:]}"
            ) from None
        issues = []
        base = Path(root).resolve()
        for item in items if isinstance(items, list) else []:
            filename = Path(str(item.get("filename", "")))
            try:
                rel = filename.resolve().relative_to(base).as_posix()
            except ValueError:
                rel = filename.as_posix()
            location = item.get("location") or {}
            issues.append(
                LintIssue(
                    path=rel,
                    line=max(1, int(location.get("row") or 1)),
                    code=str(item.get("code") or "?"),
                    message=str(item.get("message") or ""),
                )
            )
        return issues
