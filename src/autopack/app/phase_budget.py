"""What the executor asks of the token budget for one phase, over the ports: the deliverables'
sizes (exact token counts when the model client can count them, cached per content SHA; offline,
lines and chars; for a created file, the median size of similar files in its folder), the writing
order and batches, each batch's max_tokens schedule, the prompt-cache context, and the driver that
asks for batch k+1 after batch k (reporting names an earlier batch imports that are not defined
yet, and moving the files that define them forward)."""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass, field, replace

from autopack.app.context import FirstRequest, RunContext
from autopack.core.budget.batching import corrected, gaps
from autopack.core.budget.caching import CacheContext
from autopack.core.budget.estimator import EstimatorParams, file_kind, tokens_of
from autopack.core.budget.phase import PhaseBudget, budget_phase, describe_plan, scheduled_settings
from autopack.core.budget.policy import BudgetPlan, BudgetSettings
from autopack.core.build import BuildSettings, ExecutorConfig
from autopack.core.edits.changeset import ChangeSet
from autopack.core.modeltable import ModelInfo
from autopack.core.render.prompts import batch_note
from autopack.core.spec import Phase
from autopack.errors import PathPolicyError
from autopack.ports import ModelClient, TokenCounter, Workspace

MAX_SIMILAR_FILES = 25
_NO_HINT = frozenset({"changelog", "requirements", "package_init"})  # the kind's default is better


@dataclass
class PhaseBatches:
    """The BatchDriver of a phase split into batches."""

    batches: list[list[str]]
    schedules: list[BuildSettings]

    @property
    def count(self) -> int:
        return len(self.batches)

    def settings(self, index: int) -> BuildSettings:
        return self.schedules[min(index, len(self.schedules) - 1)]

    def next_prompt(self, index: int, changes: ChangeSet) -> str:
        done = [p for b in self.batches[:index] for p in b]
        later = [p for b in self.batches[index:] for p in b]
        found = gaps(done, later, changes.current)
        if found:
            self.batches = corrected(self.batches, index, [t for _, _, t in found])
        return batch_note(index, self.count, self.batches[index], found).strip() + "\n"


@dataclass
class PreparedPhase:
    """A phase as the builder gets it: deliverables in writing order, the first batch's settings,
    the batch driver (None for one batch) and the budget behind them."""

    phase: Phase
    settings: BuildSettings
    budget: PhaseBudget | None = None
    batches: PhaseBatches | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def plan(self) -> BudgetPlan | None:
        return self.budget.plan if self.budget is not None else None

    def first_request(
        self,
        context: RunContext,
        goal: str,
        protected: list[str],
        earlier: tuple[str, ...] = (),
        extra: str = "",
    ) -> FirstRequest:
        """The context engine's first request for the phase (deliverables in writing order), with
        the first batch's files (or the order to write in) after the phase prompt: what the
        executor sends and `autopack context` prints. `extra`: more prompt (a follow-up's)."""
        fmt = self.plan.format if self.plan is not None else None
        request = context.first_request(
            goal, self.phase, protected=protected, output_format=fmt, earlier=earlier, extra=extra
        )
        return replace(request, prompt=request.prompt + self.note())

    def note(self) -> str:
        """What the phase prompt adds: the first batch's files, or the order to write in."""
        if self.budget is None:
            return ""
        first = self.budget.layout.batches[0]
        ordered = len(self.phase.deliverables) > 1
        return batch_note(0, len(self.budget.layout.batches), first, ordered=ordered)


class Sizer:
    """Exact token counts of file contents from the model client (cached per SHA-256, so a file
    is counted once per run), and typical sizes of files to create from similar files."""

    def __init__(
        self, ws: Workspace, model: ModelClient | None, model_id: str, params: EstimatorParams
    ) -> None:
        self.ws, self.model_id, self.params = ws, model_id, params
        self.counter: TokenCounter | None = model if isinstance(model, TokenCounter) else None
        self.counts: dict[str, int] = {}
        self._files: list[str] | None = None

    def prewarm(self, texts: list[bytes]) -> None:
        """Count every text not counted yet in one call; offline from then on if it fails."""
        todo = {hashlib.sha256(t).hexdigest(): t for t in texts}
        todo = {k: t for k, t in todo.items() if k not in self.counts}
        if self.counter is None or not todo:
            return
        got = self.counter.count_tokens(
            self.model_id, [t.decode("utf-8", "replace") for t in todo.values()]
        )
        if got is None or len(got) != len(todo):
            self.counter = None
            return
        self.counts.update(zip(todo, got, strict=True))

    def count(self, path: str, data: bytes) -> int | None:
        return self.counts.get(hashlib.sha256(data).hexdigest())

    def count_text(self, text: str) -> int | None:
        """Exact tokens of `text` (counted once), or None offline."""
        data = text.encode("utf-8", "replace")
        self.prewarm([data])
        return self.count("", data)

    def hint(self, path: str) -> int | None:
        """Median tokens of the files of the same kind in the same folder, if there are any."""
        kind = file_kind(path)
        if kind in _NO_HINT:
            return None
        if self._files is None:
            self._files = self.ws.list_files()
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        similar = [
            f
            for f in self._files
            if f != path
            and (f.rsplit("/", 1)[0] if "/" in f else "") == folder
            and file_kind(f) == kind
        ][:MAX_SIMILAR_FILES]
        sizes = []
        for f in similar:
            try:
                data = self.ws.read(f)
            except PathPolicyError:  # a symlink or FIFO beside the file: not a typical size
                continue
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
            size = self.count(f, data) or tokens_of(
                tokens=None, chars=len(text), lines=text.count("\n"), params=self.params, path=f
            )
            sizes.append(size or 0.0)
        return round(statistics.median(sizes)) if sizes else None


class Budgeter:
    """Prepares each phase of a run for the builder (see the module docstring)."""

    def __init__(
        self,
        ws: Workspace,
        model: ModelClient | None,  # None: no token counts (offline)
        model_info: ModelInfo,
        params: EstimatorParams,
        config: ExecutorConfig,
    ) -> None:
        self.ws, self.info, self.params = ws, model_info, params
        self.build, self.budget = config.build, config.budget
        self.sizer = Sizer(ws, model, model_info.id, params)
        self.phases_prepared = 0  # a phase before this one may have cached the system prompt
        self.shared_reads = 0  # the later phases of the run, as of the phase being built

    def cache_context(self, shared_reads: int) -> CacheContext:
        return self.build.cache.model_copy(
            update={
                "min_tokens": self.info.min_cache_tokens,
                "shared_reads": shared_reads,
                "shared_written": self.build.cache.shared_written or self.phases_prepared > 0,
            }
        )

    def repair_settings(self) -> BuildSettings:
        """Settings of the gate repair rounds of the phase being built: after a cut, the model's
        max (with the policy on)."""
        extra = {"max_output_tokens": self.info.max_output_tokens, "max_after_plan": True}
        return self.build.model_copy(
            update={
                "cache": self.cache_context(self.shared_reads),
                "context_window": self.info.context_window,
                **(extra if self.budget is not None else {}),
            }
        )

    def input_tokens(self, system: str, prompt: str) -> int | None:
        """The first request's input, counted exactly when the model client can count."""
        parts = [self.sizer.count_text(t) for t in (system, prompt)]
        return None if None in parts else sum(p or 0 for p in parts)

    def prepare(self, phase: Phase, shared_reads: int = 0) -> PreparedPhase:
        """The phase for the builder (`shared_reads`: the later phases of the run); counts the
        phases prepared, as a phase before this one may have cached the system prompt."""
        cache = self.cache_context(shared_reads)
        self.phases_prepared += 1
        self.shared_reads = shared_reads
        return self.budget_of(phase, cache)

    def estimate_tokens(self, phase: Phase) -> int | None:
        """The phase's estimated output tokens, when the policy can estimate them. Asks for no
        token counts (counts already made are used): a run sizes its context with it before any
        phase calls the model, and a resume that calls none makes no model client."""
        plan = self.budget_of(phase, count=False).plan
        return plan.estimate_tokens if plan is not None else None

    def budget_of(
        self, phase: Phase, cache: CacheContext | None = None, count: bool = True
    ) -> PreparedPhase:
        """Order, batches, plans and schedules of a phase (`count`: ask the model client for the
        token counts of its files first)."""
        cache = cache or self.cache_context(0)
        if count:
            self.sizer.prewarm(self._texts(phase))
        found = budget_phase(
            phase,
            self.ws.read,
            self.info,
            self.params,
            self.budget or BudgetSettings(),
            count=self.sizer.count if self.sizer.counter is not None else None,
            hint=self.sizer.hint,
        )
        by_path = {d.path: d for d in phase.deliverables}
        ordered = phase.model_copy(
            update={"deliverables": tuple(by_path[p] for p in found.layout.order)}
        )
        if self.budget is None:  # a fixed max_tokens: the order, one batch, no plan
            fixed = self.build.model_copy(update={"cache": cache})
            return PreparedPhase(phase=ordered, settings=fixed)
        schedules = [scheduled_settings(self.build, p, self.info, cache) for p in found.batch_plans]
        batches = None
        if len(found.layout.batches) > 1:
            batches = PhaseBatches([list(b) for b in found.layout.batches], schedules)
        lines = [describe_plan(found.plan, found.layout)]
        return PreparedPhase(ordered, schedules[0], found, batches, lines)

    def _texts(self, phase: Phase) -> list[bytes]:
        if self.sizer.counter is None:
            return []
        out = []
        for d in phase.deliverables:
            data = self.ws.read(d.old_path or d.path)
            if data is not None:
                out.append(data)
        return out
