"""The context engine (pure): from the repo's index, a phase's related files (whole when small,
else an outline of signatures) and the run's shared part (repo instructions and the ranked repo
map), each within its share of the token budget. The app reads the files (Workspace port) and puts
the shared part in the system prompt, the phase's part in the user turn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from autopack.core.context.budget import RELATED_SHARE, instruction_chars
from autopack.core.context.index import RepoIndex
from autopack.core.context.instructions import Instruction, bounded, repo_instructions
from autopack.core.context.related import Candidate, Focus, candidates
from autopack.core.context.render import outline, tokens
from autopack.core.context.repomap import repo_map
from autopack.core.context.scan import Symbol

WHOLE_TOKENS = 600  # a related file up to this size is shown whole
FILE_SHARE = 0.4  # of the related budget, at most, for one file
MAX_CANDIDATES = 80


@dataclass(frozen=True)
class Block:
    path: str
    view: Literal["whole", "outline"]
    text: str
    reason: str

    @property
    def tokens(self) -> int:
        """Its size in the phase prompt, the <related> wrapper included."""
        wrapper = (
            f'<related path="{self.path}" view="{self.view}" why="{self.reason}">\n\n</related>\n\n'
        )
        return tokens(self.text + wrapper)


@dataclass(frozen=True)
class PhaseFocus:
    focus: Focus
    budget_tokens: int


@dataclass
class SharedContext:
    instructions: list[Instruction] = field(default_factory=list)
    repo_map: str = ""
    related_cap: dict[int, int] = field(default_factory=dict)  # phase index -> related budget
    related: dict[int, list[Block]] = field(default_factory=dict)  # as made for the sizing

    @property
    def instruction_tokens(self) -> int:
        return sum(tokens(i.text) + tokens(i.source) + 4 for i in self.instructions)


def _levels(
    scan_symbols: Sequence[Symbol], needed: set[str], whole_module: bool
) -> list[tuple[list[Symbol], bool]]:
    """Outline choices from most to least detail: (symbols, with docstrings)."""
    needed_classes = {s.name for s in scan_symbols if s.kind == "class" and s.name in needed}
    want = [s for s in scan_symbols if s.name in needed or s.parent in needed_classes]
    public = [
        s
        for s in scan_symbols
        if s.kind != "attr" and (s.public or s.name in needed) and (not s.parent or s.public)
    ]
    top_public = [s for s in public if not s.parent]
    everything = [s for s in scan_symbols if not s.name.startswith("__") or s.kind == "def"]
    choices = [(everything, True), (public, True), (_merge(top_public, want), False)]
    if not whole_module:
        choices.append((want, False))
    return [(c, d) for c, d in choices if c]


def _merge(a: list[Symbol], b: list[Symbol]) -> list[Symbol]:
    seen = set(a)
    return a + [s for s in b if s not in seen]


def render_block(index: RepoIndex, cand: Candidate, cap: int) -> Block | None:
    """The candidate as a whole file when small, else its most detailed outline within `cap`."""
    text = index.text(cand.path)
    reason = ", ".join(sorted(cand.reasons))
    whole = Block(cand.path, "whole", text, reason)
    if text.strip() and whole.tokens <= min(cap, WHOLE_TOKENS):
        return whole
    scan = index.scans.get(cand.path)
    if scan is None:
        return whole if text.strip() and whole.tokens <= cap else None
    for chosen, doc in _levels(scan.symbols, cand.needed, cand.whole_module):
        block = Block(cand.path, "outline", outline(text, scan, chosen, doc=doc), reason)
        if block.text and block.tokens <= cap:
            return block
    return None


def _least(index: RepoIndex, cand: Candidate) -> Block | None:
    """The smallest useful view: the names the phase needs (a fixture file's or a star-imported
    module's public names), as an outline."""
    scan = index.scans.get(cand.path)
    if scan is None:
        return None
    levels = _levels(scan.symbols, cand.needed, cand.whole_module)
    if not levels or (not cand.needed and not cand.whole_module):
        return None
    chosen, _ = levels[-1]
    text = outline(index.text(cand.path), scan, chosen, doc=False)
    return Block(cand.path, "outline", text, ", ".join(sorted(cand.reasons))) if text else None


def related_blocks(index: RepoIndex, focus: Focus, budget_tokens: int) -> list[Block]:
    """The phase's related files within `budget_tokens`, best first. First every candidate gets
    its smallest view (the names it is needed for), as many as fit; then, best first, each is
    replaced by its richest view that fits (whole when small, else a fuller outline)."""
    cands = candidates(index, focus)[:MAX_CANDIDATES]
    chosen: dict[str, Block] = {}
    used = 0
    for cand in cands:
        block = _least(index, cand)
        if block is not None and used + block.tokens <= budget_tokens:
            chosen[cand.path] = block
            used += block.tokens
    per_file = max(WHOLE_TOKENS, int(budget_tokens * FILE_SHARE))
    for cand in cands:
        current = chosen.get(cand.path)
        had = current.tokens if current is not None else 0
        room = budget_tokens - used + had
        if room < 40:
            continue
        better = render_block(index, cand, min(room, max(per_file, had)))
        if better is not None and better.tokens > had:
            chosen[cand.path] = better
            used += better.tokens - had
    return [chosen[c.path] for c in cands if c.path in chosen]


def personalization(index: RepoIndex, foci: Sequence[Focus]) -> dict[str, float]:
    """Where the map's random walk restarts: existing deliverables, the folders of new ones."""
    weights: dict[str, float] = {}
    for focus in foci:
        for path, action in focus.deliverables:
            if path in index.scans and action != "create":
                weights[path] = weights.get(path, 0.0) + 1.0
            folder = path.rpartition("/")[0]
            for near in index.scans:
                if near.rpartition("/")[0] == folder and near != path:
                    weights[near] = weights.get(near, 0.0) + 0.2
    return weights


def shared_context(
    index: RepoIndex, phases: Sequence[PhaseFocus], extra: Sequence[Instruction] = ()
) -> SharedContext:
    """Instructions and the repo map for a run's phases: the map gets what the instructions and
    the largest phase's related files leave of the smallest budget; files a phase already shows
    (deliverables, related) are not repeated in it."""
    folders = {p.rpartition("/")[0] for ph in phases for p in ph.focus.paths}
    found = [*repo_instructions(index.texts, index.paths, folders), *extra]
    budget = min((ph.budget_tokens for ph in phases), default=0)
    shared = SharedContext(instructions=bounded(found, instruction_chars(budget)))
    shown: set[str] = set()
    map_budget = None
    for n, ph in enumerate(phases):
        room = max(0, ph.budget_tokens - shared.instruction_tokens)
        shared.related_cap[n] = int(room * RELATED_SHARE)
        blocks = shared.related[n] = related_blocks(index, ph.focus, shared.related_cap[n])
        shown |= ph.focus.paths | {b.path for b in blocks}
        left = room - sum(b.tokens for b in blocks)
        map_budget = left if map_budget is None else min(map_budget, left)
    if map_budget and map_budget > 0:
        foci = [ph.focus for ph in phases]
        shared.repo_map = repo_map(index, personalization(index, foci), map_budget, shown)
    return shared


def goal_personalization(index: RepoIndex, text: str) -> dict[str, float]:
    """Where a planning map's random walk restarts: files the goal names (by path or module
    name) and files defining the identifiers it mentions; empty (every file alike) for none."""
    focus = Focus((), text)
    return {c.path: c.score for c in candidates(index, focus)}


def planning_context(
    index: RepoIndex, goal: str, budget_tokens: int, extra: Sequence[Instruction] = ()
) -> SharedContext:
    """The planner's view of the repo: the root's instructions and a map ranked by closeness to
    what the goal mentions, within `budget_tokens`."""
    found = [*repo_instructions(index.texts, index.paths, ()), *extra]
    shared = SharedContext(instructions=bounded(found, instruction_chars(budget_tokens)))
    left = budget_tokens - shared.instruction_tokens
    if left > 0:
        shared.repo_map = repo_map(index, goal_personalization(index, goal), left)
    return shared
