"""What the model sees of the repo. The deliverables' current text (as before), and the context
engine's part (core/context): the run's shared context (repo instructions and the ranked repo map)
in the system prompt, so every phase of a run reads it from the prompt cache, and each phase's
related files in its user turn. The repo is read here, through the Workspace port; scans are
cached by blob SHA for the whole process.

`RunContext.first_request` is the one place a phase's first request (system + prompt) is made:
the executor sends it, `autopack context` prints it, `autopack bench context` measures it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from autopack.core.context.budget import MAX_INSTRUCTION_CHARS, ContextSettings, context_budget
from autopack.core.context.engine import (
    Block,
    PhaseFocus,
    SharedContext,
    planning_context,
    related_blocks,
    shared_context,
)
from autopack.core.context.index import RepoFiles, RepoIndex
from autopack.core.context.instructions import Instruction, bounded, is_instruction_file
from autopack.core.context.related import Focus
from autopack.core.context.render import tokens
from autopack.core.context.scan import ScanCache, blob_sha
from autopack.core.dag import topological_order
from autopack.core.modeltable import ModelInfo
from autopack.core.render.prompts import FileContext, phase_prompt, system_prompt
from autopack.core.spec import DeliverableAction, Phase, RunSpec
from autopack.core.state import PhaseStatus, RunState
from autopack.errors import PathPolicyError
from autopack.ports import Workspace

MAX_CONTEXT_FILE_BYTES = 200_000
MAX_INDEXED_FILE_BYTES = 1_000_000
READ_THREADS = 8
Reader = Callable[[str], bytes | None]
Estimate = Callable[[Phase], int | None]  # a phase's estimated output tokens, when known
SCANS = ScanCache()  # scans by blob SHA, for every context built in this process


def context_files(phase: Phase, read: Reader) -> list[FileContext]:
    """The deliverables' current text: not for created files, nor binary or huge ones."""
    files = []
    for d in phase.deliverables:
        if d.action is DeliverableAction.create:
            continue
        path = d.old_path or d.path
        try:
            data = read(path)
        except PathPolicyError:  # a symlink, FIFO or folder: its op will be refused by name
            continue
        if data is None or len(data) > MAX_CONTEXT_FILE_BYTES or b"\x00" in data:
            continue
        files.append(FileContext(path=path, text=data.decode("utf-8", "replace")))
    return files


def read_repo(ws: Workspace) -> RepoFiles:
    """Every tracked path, with the text of the Python and instruction files (not binary or
    huge ones; a path the workspace refuses, such as a symlink, is skipped). Read on a few
    threads: the workspace's path checks, not the bytes, are what takes the time."""
    paths = ws.list_files()
    wanted = [p for p in paths if p.endswith(".py") or is_instruction_file(p)]

    def read(path: str) -> bytes | None:
        try:
            return ws.read(path)
        except PathPolicyError:
            return None

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        contents = list(pool.map(read, wanted))
    files = RepoFiles(paths=paths)
    for path, data in zip(wanted, contents, strict=True):
        if data is None or len(data) > MAX_INDEXED_FILE_BYTES or b"\x00" in data:
            continue
        files.texts[path] = data.decode("utf-8", "replace")
        files.shas[path] = blob_sha(data)
    return files


def focus_of(phase: Phase, earlier: tuple[str, ...] = ()) -> Focus:
    """What a phase works on, for the engine."""
    deliverables = tuple(
        ((d.old_path or d.path) if d.action is DeliverableAction.rename else d.path, d.action.value)
        for d in phase.deliverables
    )
    words = [phase.title, phase.goal, *(d.description for d in phase.deliverables)]
    return Focus(deliverables, "\n".join([*words, *phase.acceptance]), earlier)


def committed_paths(state: RunState) -> tuple[str, ...]:
    """The files the run's committed phases changed (for the phases after them)."""
    done = [p.changed_paths for p in state.phases if p.status is PhaseStatus.committed]
    return tuple(sorted({path for paths in done for path in paths}))


def setting_instructions(spec: RunSpec, settings: ContextSettings) -> list[Instruction]:
    out = []
    if spec.instructions.strip():
        out.append(Instruction("run spec `instructions`", spec.instructions))
    if settings.instructions.strip():
        out.append(Instruction("run setting `instructions`", settings.instructions))
    return out


@dataclass(frozen=True)
class FirstRequest:
    """A phase's first request as the builder sends it, and its size by section (tokens)."""

    system: str
    prompt: str
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def printed(self) -> str:
        """What `autopack context` prints."""
        return f"{self.system}\n-----\n{self.prompt}"


class RunContext:
    """The context of one run: its shared part made once (at the start), the phase part when
    each phase starts (the repo is read again when HEAD moved since)."""

    def __init__(
        self,
        ws: Workspace,
        spec: RunSpec,
        model: ModelInfo,
        settings: ContextSettings,
        estimate: Estimate,
        cache: ScanCache = SCANS,
    ) -> None:
        self.ws, self.cache = ws, cache
        if settings.budget_tokens is None and spec.context_budget is not None:
            settings = settings.model_copy(update={"budget_tokens": spec.context_budget})
        self.enabled = settings.budget_tokens != 0
        extra = setting_instructions(spec, settings)
        self.index, self.head = RepoIndex(RepoFiles(paths=[])), ""
        self.start_index = self.index
        self.budgets: dict[str, int] = {}
        self.caps: dict[str, int] = {}
        self.at_start: dict[str, list[Block]] = {}  # related files made for the sizing
        if not self.enabled:  # the deliverables only (and the instructions a setting gives)
            self.shared = SharedContext(bounded(extra, MAX_INSTRUCTION_CHARS))
        else:
            self.index, self.head = RepoIndex(read_repo(ws), cache), ws.head_sha()
            self.start_index = self.index
            order = [spec.phase(p) for p in topological_order(spec.phases)]
            window = model.context_window
            self.budgets = {p.id: context_budget(settings, window, estimate(p)) for p in order}
            foci = [PhaseFocus(focus_of(p), self.budgets[p.id]) for p in order]
            self.shared = shared_context(self.index, foci, extra)
            self.caps = {p.id: self.shared.related_cap.get(n, 0) for n, p in enumerate(order)}
            self.at_start = {p.id: self.shared.related.get(n, []) for n, p in enumerate(order)}
        self.system = system_prompt(self.shared.instructions, self.shared.repo_map)

    def _current_index(self) -> RepoIndex:
        head = self.ws.head_sha()
        if head != self.head:
            self.index, self.head = RepoIndex(read_repo(self.ws), self.cache), head
        return self.index

    def first_request(
        self,
        run_goal: str,
        phase: Phase,
        *,
        protected: list[str],
        output_format: str | None,
        earlier: tuple[str, ...] = (),
    ) -> FirstRequest:
        files = context_files(phase, self.ws.read)
        related: list[Block] = []
        if self.enabled and self.caps.get(phase.id, 0) > 0:
            index = self._current_index()
            if index is self.start_index and not earlier and phase.id in self.at_start:
                related = self.at_start[phase.id]  # nothing changed since they were made
            else:
                related = related_blocks(index, focus_of(phase, earlier), self.caps[phase.id])
        prompt = phase_prompt(run_goal, phase, files, protected, output_format, related)
        sections = {
            "system": tokens(self.system),
            "instructions": self.shared.instruction_tokens,
            "repo_map": tokens(self.shared.repo_map),
            "prompt": tokens(prompt),
            "deliverables": sum(tokens(f.text) for f in files),
            "related": sum(b.tokens for b in related),
        }
        return FirstRequest(self.system, prompt, sections)


def plan_context(
    ws: Workspace, goal: str, model: ModelInfo, settings: ContextSettings
) -> SharedContext | None:
    """The planner's view of the repo (instructions and a map ranked by closeness to the goal),
    None when the context budget is 0."""
    if settings.budget_tokens == 0:
        return None
    budget = context_budget(settings, model.context_window, None)
    extra = [Instruction("run setting `instructions`", settings.instructions)]
    index = RepoIndex(read_repo(ws), SCANS)
    return planning_context(index, goal, budget, [i for i in extra if i.text.strip()])
