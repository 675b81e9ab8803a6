"""The test runner of a managed environment keeps its setup current: before each suite run, when
the packaging files of the working tree (core/gates/packaging.py) differ from those the setup
command last ran on, it runs again (a phase that adds a dependency gets it installed before its
tests; when a phase is undone, the next run sets up again on the tree it starts from, which
installs what that tree asks for, though packages the undone phase added stay installed). A failing
setup raises SetupError, which the test gate reports as its reason, and the next run tries again
whatever the packaging files say (a half-done setup is never taken for a current one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from autopack.core.gates.test_report import SuiteReport
from autopack.ports import SuiteRunner

Fingerprint = Callable[[], Mapping[str, str]]  # packaging file -> content digest
_FAILED = "\0setup-failed"  # in place of a fingerprint after a failed setup: never matches


class SetupAwareRunner:
    """A SuiteRunner that runs `setup` (returning its seconds) first whenever `fingerprint` has
    changed since the last setup; `baseline` is the fingerprint the first setup ran on."""

    def __init__(
        self,
        inner: SuiteRunner,
        setup: Callable[[], float],
        fingerprint: Fingerprint,
        baseline: Mapping[str, str],
        progress: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.inner = inner
        self._setup = setup
        self._fingerprint = fingerprint
        self._last = dict(baseline)
        self._progress = progress
        self.reruns = 0

    @property
    def config_key(self) -> str:
        return self.inner.config_key

    def run(self, root: str, select: Sequence[str] | None = None) -> SuiteReport:
        now = dict(self._fingerprint())
        if now != self._last:
            self._progress(f"autopack: {self._why(now)}: running the setup command again")
            self._last = {_FAILED: ""}  # until it succeeds, every run sets up again
            seconds = self._setup()
            self._last = dict(self._fingerprint())  # what it ran on, and any lock it wrote
            self.reruns += 1
            self._progress(f"autopack: setup command finished in {seconds:.1f} s")
        return self.inner.run(root, select)

    def _why(self, now: Mapping[str, str]) -> str:
        if _FAILED in self._last:
            return "the last setup failed"
        keys = now.keys() | self._last.keys()
        changed = sorted(p for p in keys if now.get(p) != self._last.get(p))
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        return f"{', '.join(changed[:5])}{more} changed"
