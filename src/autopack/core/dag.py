"""Phase ordering: topological order (stable in spec order), parallel waves, cycle detection.
Everything here is iterative and near-linear: a spec may hold a long dependency chain."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import Protocol


class _Node(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def depends_on(self) -> tuple[str, ...]: ...


def find_cycle(nodes: Sequence[_Node]) -> list[str] | None:
    """A dependency cycle as `[a, b, ..., a]`, or None. Unknown dependencies are ignored here.
    A depth-first search with an explicit stack (no recursion: a chain may be thousands long)."""
    deps = {n.id: [d for d in n.depends_on] for n in nodes}
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    for n in nodes:
        if n.id in state:
            continue
        path: list[str] = [n.id]
        position = {n.id: 0}
        todo: list[Iterator[str]] = [iter(deps.get(n.id, []))]
        state[n.id] = 1
        while todo:
            dep = next(todo[-1], None)
            if dep is None:  # every dependency of path[-1] is done
                todo.pop()
                done = path.pop()
                del position[done]
                state[done] = 2
            elif dep in deps and state.get(dep) == 1:
                return [*path[position[dep] :], dep]
            elif dep in deps and dep not in state:
                state[dep] = 1
                position[dep] = len(path)
                path.append(dep)
                todo.append(iter(deps[dep]))
    return None


def _cycle_error(nodes: Sequence[_Node]) -> ValueError:
    return ValueError("dependency cycle: " + " -> ".join(find_cycle(nodes) or []))


def waves(nodes: Sequence[_Node]) -> list[list[str]]:
    """Groups of phases that could run in parallel: wave k holds the phases whose dependencies are all
    in earlier waves. Within a wave, spec order. Assumes a validated (acyclic) graph."""
    ids = {n.id for n in nodes}
    deps = {n.id: [d for d in n.depends_on if d in ids] for n in nodes}
    level: dict[str, int] = {}
    for pid in topological_order(nodes):  # each phase after its dependencies
        level[pid] = 1 + max((level[d] for d in deps[pid]), default=-1)
    out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for n in nodes:
        out[level[n.id]].append(n.id)
    return out


def topological_order(nodes: Sequence[_Node]) -> list[str]:
    """Kahn's algorithm that always picks the earliest ready phase in spec order (a heap of spec
    positions). Assumes unique ids (a validated spec)."""
    index = {n.id: i for i, n in reversed(list(enumerate(nodes)))}
    waiting: list[int] = []  # per phase, how many of its known dependencies are not yet ordered
    dependents: dict[str, list[int]] = {}
    for i, n in enumerate(nodes):
        known = {d for d in n.depends_on if d in index}
        waiting.append(len(known))
        for d in known:
            dependents.setdefault(d, []).append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        pid = nodes[heapq.heappop(ready)].id
        order.append(pid)
        for j in dependents.get(pid, []):
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(nodes):
        raise _cycle_error(nodes)
    return order
