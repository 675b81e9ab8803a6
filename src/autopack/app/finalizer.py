"""PhaseFinalizer: decides whether a phase whose changes are in the working tree may be committed.
`prepare` runs before the phase's changes are written (it captures the test baseline at HEAD, in
the working tree, see app/baseline.py); `finalize` after; `committed` once the phase is a commit.
Gates, in order, each pass / warn / block with a reason:

0. collection  new collection errors (re-tried once; a persistent one blocks)
1. tests       the delta against the baseline: a new failure in the phase's validation_tests blocks
               naming the test, any other persistent new failure blocks, flaky ones warn,
               pre-existing failures are ignored
2. deliverables  create/modify: exists and changed; delete: gone; rename: moved; no change at all
               blocks unless the phase allows it
3. manifest    each file in the `manifest` op exists and defines every symbol it lists
4. quality     optional: lint findings on changed Python files (warn), coverage drop (warn)

All I/O goes through ports: the working tree (FileSource), the files at HEAD, the baseline tracker
(which runs tests through the SuiteRunner port) and an optional Linter."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from autopack.app.baseline import BaselineTracker
from autopack.core.checks import Annotation
from autopack.core.edits.changeset import ChangeSet, FileSource
from autopack.core.gates.baseline import Assessment
from autopack.core.gates.decision import GateCost, GateResult, GateStatus, PhaseDecision
from autopack.core.gates.manifest import check_symbols
from autopack.core.gates.test_report import CaseResult, matches
from autopack.core.spec import Deliverable, DeliverableAction, Phase
from autopack.errors import AutopackError, PathPolicyError
from autopack.ports import Linter

MAX_LISTED = 5


class GateOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    coverage_drop_warn: float = 0.0  # percentage points; a drop larger than this warns


def _listed(items: Sequence[str]) -> str:
    more = f" (and {len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def _describe(t: CaseResult) -> str:
    where = f" at {t.path}:{t.line}" if t.path and t.line else ""
    return f"{t.node_id} ({t.message or t.outcome.value}{where})"


def _annotation(t: CaseResult, title: str) -> Annotation | None:
    if not t.path or not t.line:
        return None
    return Annotation(
        path=t.path,
        start_line=t.line,
        end_line=t.line,
        annotation_level="failure",
        message=t.message or t.outcome.value,
        title=f"{title}: {t.node_id}",
    )


class PhaseFinalizer:
    def __init__(
        self,
        root: str,
        files: FileSource,
        read_head: Callable[[str], bytes | None],
        head_sha: Callable[[], str],
        *,
        tracker: BaselineTracker | None = None,
        linter: Linter | None = None,
        options: GateOptions | None = None,
    ) -> None:
        self.root = root
        self.files = files
        self.read_head = read_head
        self.head_sha = head_sha
        self.tracker = tracker
        self.linter = linter
        self.options = options or GateOptions()
        self.base_sha: str | None = None  # HEAD when the phase was prepared
        self._baseline_error = ""
        self._last: Assessment | None = None

    def prepare(self) -> None:
        """Before a phase's changes are written (the working tree holds HEAD): capture the test
        baseline the phase will be judged against, from the cache or by one run in this tree."""
        self.base_sha, self._baseline_error, self._last = self.head_sha(), "", None
        if self.tracker is None:
            return
        self.tracker.reset_cost()
        try:
            self.tracker.capture(self.root, self.base_sha)
        except AutopackError as exc:
            self._baseline_error = f"the tests could not run at the base commit: {exc}"

    def committed(self, sha: str) -> None:
        """The phase's gated tree is now commit `sha`: its test run is that commit's baseline."""
        if self.tracker is not None and self._last is not None:
            self.tracker.remember(sha, self._last.settled())
        self._last = None

    def _assess(self, gates: list[GateResult]) -> Assessment | None:
        self._last = None
        if self.tracker is None:
            gates.append(
                GateResult(gate="tests", status=GateStatus.passed, reason="tests disabled")
            )
            return None
        if self.base_sha is None or self._baseline_error:
            reason = self._baseline_error or (
                "no test baseline was captured before the phase's changes were written"
            )
            gates.append(GateResult(gate="tests", status=GateStatus.block, reason=reason))
            return None
        try:
            self._last = self.tracker.assess(self.root, self.base_sha)
        except AutopackError as exc:
            gates.append(GateResult(gate="tests", status=GateStatus.block, reason=str(exc)))
        return self._last

    def finalize(self, phase: Phase, changes: ChangeSet) -> PhaseDecision:
        # The gates that read the phase's files judge them before any test run (which runs the
        # phase's own tests and conftest.py) could change them.
        file_notes: list[Annotation] = []
        changed = self._changed(changes)
        deliverables = self._deliverables_gate(phase, changed)
        manifest = self._manifest_gate(changes, file_notes)
        lint = self._lint(changed, file_notes)
        gates: list[GateResult] = []
        notes: list[Annotation] = []
        assessment = self._assess(gates)
        if assessment is not None:
            gates.append(self._collection_gate(assessment, notes))
            gates.append(self._test_gate(phase, assessment, notes))
        gates += [deliverables, manifest]
        notes += file_notes
        quality = self._quality_gate(lint, assessment)
        if quality is not None:
            gates.append(quality)
        cost = self.tracker.cost if self.tracker is not None else GateCost()
        return PhaseDecision(gates=tuple(gates), annotations=tuple(notes), cost=cost)

    # -- gates -----------------------------------------------------------------------------
    def _collection_gate(self, a: Assessment, notes: list[Annotation]) -> GateResult:
        if a.persistent_collection_errors:
            for c in a.persistent_collection_errors:
                notes.append(
                    Annotation(
                        path=c.file,
                        start_line=c.line or 1,
                        end_line=c.line or 1,
                        annotation_level="failure",
                        message=c.message,
                        title="collection error",
                    )
                )
            listed = _listed([f"{c.file}: {c.message}" for c in a.persistent_collection_errors])
            return GateResult(
                gate="collection",
                status=GateStatus.block,
                reason=f"new collection error(s): {listed}",
            )
        if a.transient_collection_errors:
            listed = _listed([c.file for c in a.transient_collection_errors])
            return GateResult(
                gate="collection",
                status=GateStatus.warn,
                reason=f"collection error(s) that went away on a retry: {listed}",
            )
        return GateResult(gate="collection", status=GateStatus.passed)

    def _test_gate(self, phase: Phase, a: Assessment, notes: list[Annotation]) -> GateResult:
        selectors = phase.validation_tests
        in_validation = [
            t for t in a.persistent_failures if any(matches(t.node_id, s) for s in selectors)
        ]
        others = [t for t in a.persistent_failures if t not in in_validation]
        for t in a.persistent_failures:
            note = _annotation(t, "new failure")
            if note is not None:
                notes.append(note)
        ran = [t.node_id for t in a.current.tests]
        not_run = [s for s in selectors if not any(matches(n, s) for n in ran)]
        stats = (
            f"{len(a.current.tests)} test(s), {len(a.delta.still_failing)} pre-existing "
            f"failure(s) ignored, {len(a.delta.fixed)} fixed"
        )
        problems = []
        if in_validation:
            problems.append(
                "validation test(s) failed: " + _listed([_describe(t) for t in in_validation])
            )
        if others:
            problems.append("new failure(s): " + _listed([_describe(t) for t in others]))
        if not_run:
            problems.append("validation test(s) not found in the run: " + _listed(not_run))
        if problems:
            return GateResult(
                gate="tests", status=GateStatus.block, reason="; ".join(problems) + f" ({stats})"
            )
        if a.flaky:
            listed = _listed([t.node_id for t in a.flaky])
            return GateResult(
                gate="tests",
                status=GateStatus.warn,
                reason=f"flaky (failed, then passed on a re-run): {listed} ({stats})",
            )
        return GateResult(gate="tests", status=GateStatus.passed, reason=stats)

    def _read(self, path: str) -> tuple[bytes | None, str | None]:
        """(content, None), or (None, why) for a path the working tree refuses to read (a symlink,
        a FIFO, a folder, a path under a file): a gate blocks on it, it never aborts the run."""
        try:
            return self.files.read(path), None
        except PathPolicyError as exc:
            return None, str(exc)

    def _changed(self, changes: ChangeSet) -> list[str]:
        """Touched paths whose working-tree state differs from HEAD (the phase's real change)."""
        return sorted(p for p in changes.changes if self.files.read(p) != self.read_head(p))

    def _deliverables_gate(self, phase: Phase, changed: list[str]) -> GateResult:
        if not changed and not phase.allow_no_change:
            return GateResult(
                gate="deliverables",
                status=GateStatus.block,
                reason="the phase changed no file (set allow_no_change to permit this)",
            )
        problems = [p for d in phase.deliverables for p in self._deliverable(d, changed)]
        if problems:
            return GateResult(
                gate="deliverables", status=GateStatus.block, reason=_listed(problems)
            )
        what = (
            f"{len(phase.deliverables)} deliverable(s) ok" if phase.deliverables else "none listed"
        )
        return GateResult(gate="deliverables", status=GateStatus.passed, reason=what)

    def _deliverable(self, d: Deliverable, changed: list[str]) -> list[str]:
        """The problems of one deliverable (none when it is as the phase says)."""
        data, refused = self._read(d.path)
        if refused:
            return [refused]
        exists = data is not None
        if d.action is DeliverableAction.delete:
            return [f"{d.path} should be deleted but still exists"] if exists else []
        if d.action is DeliverableAction.rename:
            problems = []
            if d.old_path:
                old, refused = self._read(d.old_path)
                if refused:
                    return [refused]
                if old is not None:
                    problems.append(f"{d.old_path} should be renamed to {d.path} but still exists")
            if not exists:
                problems.append(f"{d.path} (rename target) does not exist")
            return problems
        if not exists:
            return [f"{d.path} ({d.action.value}) does not exist"]
        if d.path not in changed:
            return [f"{d.path} ({d.action.value}) was not changed"]
        return []

    def _manifest_gate(self, changes: ChangeSet, notes: list[Annotation]) -> GateResult:
        if not changes.manifest:
            return GateResult(gate="manifest", status=GateStatus.passed, reason="no manifest")
        problems = []
        for entry in changes.manifest:
            data, refused = self._read(entry.path)
            if refused:
                problems.append(refused)
                continue
            if data is None:
                problems.append(f"{entry.path} does not exist")
                continue
            result = check_symbols(entry.path, data.decode("utf-8", "replace"), entry.symbols)
            if result.syntax_error:
                problems.append(f"syntax error: {result.syntax_error}")
                line = result.line or 1
                notes.append(
                    Annotation(
                        path=entry.path,
                        start_line=line,
                        end_line=line,
                        annotation_level="failure",
                        message=result.syntax_error,
                        title="syntax error",
                    )
                )
            elif result.missing:
                problems.append(f"{entry.path} does not define {', '.join(result.missing)}")
        if problems:
            return GateResult(gate="manifest", status=GateStatus.block, reason=_listed(problems))
        count = sum(len(e.symbols) for e in changes.manifest)
        return GateResult(
            gate="manifest",
            status=GateStatus.passed,
            reason=f"{len(changes.manifest)} file(s), {count} symbol(s) found",
        )

    def _lint(self, changed: list[str], notes: list[Annotation]) -> list[str] | None:
        """Lint findings on the changed Python files (as reasons); None without a linter."""
        if self.linter is None:
            return None
        py_files = [p for p in changed if p.endswith(".py") and self.files.read(p) is not None]
        try:
            issues = self.linter.lint(self.root, py_files) if py_files else []
        except AutopackError as exc:
            return [f"lint could not run: {exc}"]
        for i in issues[:50]:
            notes.append(
                Annotation(
                    path=i.path,
                    start_line=i.line,
                    end_line=i.line,
                    annotation_level="warning",
                    message=f"{i.code} {i.message}",
                    title="lint",
                )
            )
        if not issues:
            return []
        listed = _listed([f"{i.path}:{i.line} {i.code}" for i in issues])
        return [f"{len(issues)} lint finding(s): {listed}"]

    def _quality_gate(self, lint: list[str] | None, a: Assessment | None) -> GateResult | None:
        reasons = list(lint or [])
        ran = lint is not None
        if a is not None and a.current.coverage_percent is not None:
            ran = True
            before, after = a.baseline.coverage_percent, a.current.coverage_percent
            if before is not None and before - after > self.options.coverage_drop_warn:
                reasons.append(f"coverage dropped from {before:.1f}% to {after:.1f}%")
        if not ran:
            return None
        if reasons:
            return GateResult(gate="quality", status=GateStatus.warn, reason="; ".join(reasons))
        return GateResult(gate="quality", status=GateStatus.passed)
