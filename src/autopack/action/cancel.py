"""Cancellation of an Action run: "Cancel workflow" and the job timeout stop the container with
SIGINT and then SIGTERM (a few seconds apart, then SIGKILL). The first of them raises `Cancelled` in
the main thread wherever it is (reading the model's stream, waiting for the test process, a GitHub
request), so the run stops at once; later signals are ignored, so the final word (the tracking
comment, the outputs) is not cut short.

`Cancelled` is a BaseException, like KeyboardInterrupt: the `except Exception` handlers that turn a
failure into a reported phase failure do not swallow it. The session settles the phases it cut
short (files written for an uncommitted phase are put back; the phase is failed, so a re-run builds
it again) and reports the cost so far."""

from __future__ import annotations

import signal
from types import FrameType, TracebackType
from typing import Any

from autopack.app.interrupted import settle_interrupted  # shared with the CLI

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Cancelled(BaseException):  # like KeyboardInterrupt: not an error
    """The run was cancelled by a signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"cancelled by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process a signal ended: 143, 130."""
        return 128 + self.signum


class CancelGuard:
    """`with CancelGuard() as guard:` installs the handlers (main thread only) and restores the
    previous ones on exit. `guard.received` is the first signal's number, or None."""

    def __init__(self, signals: tuple[signal.Signals, ...] = SIGNALS) -> None:
        self.signals = signals
        self.received: int | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            raise Cancelled(signum)
        # A second signal (GitHub sends SIGINT, then SIGTERM) while the run reports: ignored.

    def __enter__(self) -> CancelGuard:
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def exit_code(self, code: int) -> int:
        """`code`, or 128 + the signal's number once a signal arrived."""
        return code if self.received is None else 128 + self.received


__all__ = ["SIGNALS", "CancelGuard", "Cancelled", "settle_interrupted"]
