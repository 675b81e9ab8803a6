"""GitHub Actions workflow commands (the edge where the action talks to the runner): secret masks,
log groups, notices, step outputs ($GITHUB_OUTPUT) and the job summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Mapping
from typing import TextIO

_PHASE_LINE = re.compile(r"^\[(\d+)/(\d+)\] ([a-z0-9-]+): (.*)$")


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


class WorkflowLog:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._group: str | None = None

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def mask(self, *values: str) -> None:
        for value in values:
            for part in value.splitlines() or [value]:
                if part.strip():
                    self._print(f"::add-mask::{part}")

    def group(self, title: str) -> None:
        self.end_group()
        self._print(f"::group::{_escape(title)}")
        self._group = title

    def end_group(self) -> None:
        if self._group is not None:
            self._print("::endgroup::")
            self._group = None

    def notice(self, message: str) -> None:
        self._print(f"::notice::{_escape(message)}")

    def warning(self, message: str) -> None:
        self._print(f"::warning::{_escape(message)}")

    def error(self, message: str) -> None:
        self._print(f"::error::{_escape(message)}")

    def info(self, message: str) -> None:
        self._print(message)

    def progress(self, message: str) -> None:
        """The executor's progress lines; each phase's lines go into a group of their own."""
        match = _PHASE_LINE.match(message)
        if match and match.group(3) != (self._group or "").split(" ")[-1]:
            self.group(f"Autopack phase {match.group(1)}/{match.group(2)}: {match.group(3)}")
        self._print(message)


def write_outputs(path: str, outputs: Mapping[str, str]) -> None:
    """Append `name<<DELIM ... DELIM` records (safe for any value) to $GITHUB_OUTPUT."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for name, value in outputs.items():
            delim = f"autopack_{secrets.token_hex(8)}"
            fh.write(f"{name}<<{delim}\n{value}\n{delim}\n")


def append_summary(path: str, markdown: str) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n")
