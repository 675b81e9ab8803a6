"""Running a command of the repo's (its tests, the setup command) in its own process group, so a
timeout or a cancel kills everything it started, not only the first process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence


def run_in_group(
    argv: Sequence[str],
    *,
    cwd: str | None,
    env: dict[str, str],
    timeout: float,
    merge_stderr: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` to the end and return its output. OSError when it cannot start;
    subprocess.TimeoutExpired (with the output so far) after `timeout`. On a timeout or any
    interruption (a signal while waiting) the whole process group is killed first."""
    args = list(argv)
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException as exc:  # a timeout, or cancelled: what it started stops with it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise subprocess.TimeoutExpired(args, timeout, output=out, stderr=err) from None
        raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err or "")
