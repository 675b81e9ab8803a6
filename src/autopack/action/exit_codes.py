"""What `autopack action` exits with, by the run's `conclusion` output. GitHub marks a step failed
for any non-zero code; the codes tell a failed run from one that waits for a maintainer, from a
configuration mistake, from a cancelled one (README "Exit codes")."""

from __future__ import annotations

import signal

OK = 0  # success, skipped (the event asks nothing), refused (who asked may not), denied
FAILED = 1  # a phase failed or was blocked, or the run stopped on an error
CONFIG_ERROR = 2  # an input or the environment is missing or invalid
AWAITING_APPROVAL = 3  # a phase is held: a governance request waits for approve/deny
CANCELLED = 128 + signal.SIGTERM  # 143; 130 after SIGINT (128 + the signal's number)

EXIT_CODES: dict[str, int] = {
    "success": OK,
    "skipped": OK,
    "refused": OK,
    "denied": OK,
    "failure": FAILED,
    "error": FAILED,
    "config_error": CONFIG_ERROR,
    "action_required": AWAITING_APPROVAL,
    "cancelled": CANCELLED,
}


def exit_code(conclusion: str) -> int:
    """The exit code of a run that ended with `conclusion` (an unknown one is a failure)."""
    return EXIT_CODES.get(conclusion, FAILED)


__all__ = [
    "AWAITING_APPROVAL",
    "CANCELLED",
    "CONFIG_ERROR",
    "EXIT_CODES",
    "FAILED",
    "OK",
    "exit_code",
]
