"""SuiteRunner adapter: runs a repo's pytest suite in a subprocess with pytest-json-report writing to a
temp file outside the repo, and parses the report into a SuiteReport. Nothing is written into the repo:
no cache folder, no bytecode, coverage data in the temp folder. The tests get only the allowed
environment variables (core/gates/environment.py): no secret reaches model-written code."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autopack.adapters.process import run_in_group
from autopack.core.gates.environment import gate_environ
from autopack.core.gates.test_report import CaseResult, CollectionError, Outcome, SuiteReport
from autopack.errors import SuiteRunError

DEFAULT_COMMAND = "python -m pytest"
_E_LINE = re.compile(r"^E\s+(.*)$")
_LINE_NO = re.compile(r"line (\d+)|:(\d+):")
# pytest exit codes: 0 ok, 1 tests failed, 2 interrupted, 3 internal error, 4 usage error, 5 none.
_FATAL_EXIT = {
    3: "pytest hit an internal error",
    4: "pytest stopped before running any test (usage error or broken conftest)",
}


def _tail(text: str, lines: int = 15) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return "\n".join(kept)


def _first_line(text: str) -> str:
    for ln in text.strip().splitlines():
        if ln.strip():
            return ln.strip()[:300]
    return ""


class PytestRunner:
    """`command` is a shell-like string; a leading `python` means `python_exe` (default: the
    interpreter running Autopack). `coverage` adds pytest-cov's total percentage to the report.
    `plugin_autoload=False` loads only pytest-json-report (and pytest-cov), not every installed
    plugin: faster, for suites that need no plugin."""

    def __init__(
        self,
        command: str = DEFAULT_COMMAND,
        *,
        python_exe: str | None = None,
        timeout_s: float = 600.0,
        coverage: bool = False,
        plugin_autoload: bool = True,
        extra_env: dict[str, str] | None = None,
        venv_vars: dict[str, str] | None = None,
        env_allow: tuple[str, ...] = (),
        env_key: str | None = None,
    ) -> None:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise SuiteRunError(f"test command {command!r} cannot be parsed: {exc}") from None
        if not argv:
            raise SuiteRunError("the test command is empty")
        self.python_exe = python_exe or sys.executable
        if argv[0] in ("python", "python3"):
            argv[0] = self.python_exe
        self.argv = argv
        self.timeout_s = timeout_s
        self.coverage = coverage
        self.plugin_autoload = plugin_autoload
        self.extra_env = dict(extra_env or {})
        self.venv_vars = dict(venv_vars or {})
        self.env_allow = env_allow
        self.env_key = env_key
        self.calls: list[tuple[str, ...]] = []  # the selection of each run; () = whole suite

    @property
    def invocations(self) -> int:
        return len(self.calls)

    @property
    def config_key(self) -> str:
        argv: list[str] = self.argv
        if self.env_key:  # the managed environment's identity, not its folder
            argv = [self.env_key, *("python" if a == self.python_exe else a for a in argv)]
        raw = json.dumps(
            [argv, self.coverage, self.plugin_autoload, sorted(self.extra_env.items())]
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:12]

    def run(self, root: str, select: Sequence[str] | None = None) -> SuiteReport:
        with tempfile.TemporaryDirectory(prefix="autopack-tests-") as tmp:
            report_file = Path(tmp) / "report.json"
            cov_file = Path(tmp) / "coverage.json"
            args = [
                *self.argv,
                "-p",
                "no:cacheprovider",
                "--continue-on-collection-errors",
                "--json-report",
                f"--json-report-file={report_file}",
                "--json-report-omit=log,streams,keywords,warnings",
            ]
            if not self.plugin_autoload:
                # Only the plugins we need: much faster when many are installed.
                args += ["-p", "pytest_jsonreport.plugin"]
                args += ["-p", "pytest_cov.plugin"] if self.coverage else []
            if self.coverage:
                args += ["--cov", f"--cov-report=json:{cov_file}"]
            args += ["--", *select] if select else []
            env = {
                **gate_environ(os.environ, self.env_allow),
                **self.venv_vars,
                "PYTHONDONTWRITEBYTECODE": "1",
                **self.extra_env,
            }
            env["COVERAGE_FILE"] = str(Path(tmp) / ".coverage")
            if not self.plugin_autoload:
                env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            self.calls.append(tuple(select or ()))
            started = time.monotonic()
            proc = self._spawn(args, root, env)
            duration = time.monotonic() - started
            if proc.returncode in _FATAL_EXIT or not report_file.exists():
                why = _FATAL_EXIT.get(proc.returncode, "pytest wrote no JSON report")
                hint = ""
                if not report_file.exists() and proc.returncode not in _FATAL_EXIT:
                    hint = f" (is pytest-json-report installed for {self.python_exe}?)"
                output = _tail(proc.stdout + "\n" + proc.stderr)
                raise SuiteRunError(
                    f"the tests in {root} could not run: {why}{hint}; "
                    f"exit code {proc.returncode}; output:\n{output}"
                )
            data = _load_json(report_file)
            coverage = _coverage_percent(cov_file) if self.coverage else None
        return parse_report(data, duration=duration, coverage=coverage)

    def _spawn(
        self, args: list[str], root: str, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        try:
            return run_in_group(args, cwd=root, env=env, timeout=self.timeout_s)
        except OSError as exc:
            raise SuiteRunError(
                f"cannot start the test command {shlex.join(args[:3])!r} in {root}: {exc.strerror}"
            ) from exc
        except subprocess.TimeoutExpired:
            raise SuiteRunError(
                f"the tests in {root} did not finish within {self.timeout_s:g} s (killed)"
            ) from None


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuiteRunError(f"the pytest JSON report {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteRunError(f"the pytest JSON report {path} is not a JSON object")
    return data


def _coverage_percent(path: Path) -> float | None:
    if not path.exists():
        return None
    totals = _load_json(path).get("totals", {})
    value = totals.get("percent_covered") if isinstance(totals, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _location(node_id: str, lineno: Any, stage: dict[str, Any]) -> tuple[str | None, int | None]:
    """The deepest traceback entry inside the repo (a relative path), else the test's own line."""
    for entry in reversed(stage.get("traceback") or []):
        path, line = entry.get("path"), entry.get("lineno")
        inside = isinstance(path, str) and path and not os.path.isabs(path) and path[0] != "<"
        if inside and isinstance(line, int) and line >= 1:
            return str(path), line
    file = node_id.split("::", 1)[0] or None
    line = lineno + 1 if isinstance(lineno, int) and lineno >= 0 else None
    return file, line


def _test_outcome(raw: dict[str, Any]) -> CaseResult:
    node_id = str(raw.get("nodeid", ""))
    try:
        outcome = Outcome(str(raw.get("outcome")))
    except ValueError:
        outcome = Outcome.error
    path, line, message = None, None, ""
    if outcome.failing:
        for stage_name in ("setup", "call", "teardown"):
            stage = raw.get(stage_name) or {}
            if stage.get("outcome") == "failed":
                crash = stage.get("crash") or {}
                message = _first_line(str(crash.get("message") or stage.get("longrepr") or ""))
                path, line = _location(node_id, raw.get("lineno"), stage)
                if stage_name != "call":
                    message = f"error in {stage_name}: {message}"
                break
        else:
            path, line = _location(node_id, raw.get("lineno"), {})
    duration = sum(
        float((raw.get(s) or {}).get("duration") or 0.0) for s in ("setup", "call", "teardown")
    )
    return CaseResult(
        node_id=node_id, outcome=outcome, message=message, path=path, line=line, duration=duration
    )


def _collection_error(raw: dict[str, Any]) -> CollectionError:
    longrepr = str(raw.get("longrepr") or "")
    e_lines = [m.group(1).strip() for ln in longrepr.splitlines() if (m := _E_LINE.match(ln))]
    message = e_lines[-1] if e_lines else _first_line(longrepr) or "collection failed"
    line = None
    for ln in e_lines:
        found = _LINE_NO.search(ln)
        if found:
            line = int(found.group(1) or found.group(2))
    return CollectionError(file=str(raw.get("nodeid") or "."), message=message[:300], line=line)


def parse_report(
    data: dict[str, Any], *, duration: float = 0.0, coverage: float | None = None
) -> SuiteReport:
    tests = tuple(_test_outcome(t) for t in data.get("tests") or [] if isinstance(t, dict))
    errors = tuple(
        _collection_error(c)
        for c in data.get("collectors") or []
        if isinstance(c, dict) and c.get("outcome") == "failed"
    )
    exit_code = data.get("exitcode")
    return SuiteReport(
        tests=tests,
        collection_errors=errors,
        exit_code=exit_code if isinstance(exit_code, int) else 0,
        duration=duration,
        coverage_percent=coverage,
    )
