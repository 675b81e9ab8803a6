"""A phase commits only what its ops wrote.

The gates run the repo's tests, and a phase's own tests and conftest.py (and, in later phases, the
ones committed earlier) run with them: they can write files. `WorktreeGuard` wraps the finalizer
for one phase. `prepare` notes which files already differ from HEAD (the user's untracked files,
what a setup command made) before the baseline is captured; after the baseline run and after every
`finalize` (the first and each repair round's) it puts the working tree back to exactly that plus
the ops' bytes:

- a file of the phase that a test run changed gets the ops' bytes back;
- a file that appeared (or a tracked file that changed) during the gates is removed (restored);
- a file of the phase that is no longer a regular file (a symlink, a folder) blocks the phase.

So nothing a test run wrote is committed, nor read by a repair round or a later phase. What was
undone is a `worktree` warning in the decision (the check run) and a progress line. The gated run
becomes the next phase's baseline only when nothing had to be undone."""

from __future__ import annotations

from collections.abc import Callable

from autopack.core.edits.changeset import ChangeSet
from autopack.core.gates.decision import GateResult, GateStatus, PhaseDecision
from autopack.core.spec import Phase
from autopack.errors import AutopackError
from autopack.ports import Finalizer, Workspace

MAX_NAMED = 10
_BROKEN = "the test runs left what cannot be undone: "


def _named(paths: list[str]) -> str:
    more = f" (and {len(paths) - MAX_NAMED} more)" if len(paths) > MAX_NAMED else ""
    return ", ".join(paths[:MAX_NAMED]) + more


class WorktreeGuard:
    def __init__(
        self,
        inner: Finalizer,
        workspace: Workspace,
        progress: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.inner = inner
        self.ws = workspace
        self.progress = progress
        self.before: set[str] = set()
        self.removed: set[str] = set()  # appeared during the gates (or tracked and changed)
        self.restored: set[str] = set()  # the phase's files, given the ops' bytes back
        self._pending: list[str] = []  # what the baseline run left, reported with the decision

    def prepare(self) -> None:
        self.before = self.ws.dirty_paths()
        self.inner.prepare()
        self._pending = self._settle({})

    def committed(self, sha: str) -> None:
        if not (self.removed or self.restored):
            self.inner.committed(sha)

    def finalize(self, phase: Phase, changes: ChangeSet) -> PhaseDecision:
        decision = self.inner.finalize(phase, changes)
        gate = self._report(self._pending + self._settle(changes.changes))
        self._pending = []
        if gate is None:
            return decision
        return decision.model_copy(update={"gates": (*decision.gates, gate)})

    def _settle(self, wanted: dict[str, bytes | None]) -> list[str]:
        """Put the tree back to what it held before plus `wanted` (the ops' bytes); the
        problems found, as report parts."""
        broken, restored = [], []
        appeared = sorted(self.ws.dirty_paths() - self.before - set(wanted))
        for path in appeared:  # first: a folder put in place of a phase file goes with them
            try:
                self.ws.discard_changes([path])  # a tracked file: back to HEAD
                self.ws.remove_new_files([path])  # a new one: not the user's (not in `before`)
            except (AutopackError, OSError) as exc:
                broken.append(f"{path} could not be removed ({exc})")
        for path, data in sorted(wanted.items()):
            try:
                if self._holds(path, data):
                    continue
                self.ws.discard_changes([path])  # also removes a symlink put in its place
                self.ws.write_changes({path: data})
                restored.append(path)
            except (AutopackError, OSError) as exc:
                broken.append(f"{path} ({exc})")
        self.restored.update(restored)
        self.removed.update(appeared)
        parts = []
        if appeared:
            parts.append(
                f"undid what the test runs wrote outside the phase (new files removed, tracked "
                f"ones restored), never committed: {_named(appeared)}"
            )
        if restored:
            parts.append(
                f"put back the bytes the ops wrote, which a test run changed: {_named(restored)}"
            )
        if broken:
            parts.append(f"{_BROKEN}{_named(broken)}")
        return parts

    def _holds(self, path: str, data: bytes | None) -> bool:
        try:
            return self.ws.read(path) == data
        except AutopackError:  # no longer a regular file (a symlink, a folder)
            return False

    def _report(self, parts: list[str]) -> GateResult | None:
        if not parts:
            return None
        reason = "; ".join(parts)
        self.progress(f"    worktree: {reason}")
        status = GateStatus.block if any(p.startswith(_BROKEN) for p in parts) else GateStatus.warn
        return GateResult(gate="worktree", status=status, reason=reason)
