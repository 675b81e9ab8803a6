"""Phase ordering: topological order (stable in spec order), parallel waves, cycle detection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class _Node(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def depends_on(self) -> tuple[str, ...]: ...


def find_cycle(nodes: Sequence[_Node]) -> list[str] | None:
    """A dependency cycle as `[a, b, ..., a]`, or None. Unknown dependencies are ignored here."""
    deps = {n.id: [d for d in n.depends_on] for n in nodes}
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in deps.get(node, []):
            if dep not in deps:
                continue
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for n in nodes:
        if n.id not in state:
            found = visit(n.id)
            if found:
                return found
    return None


def waves(nodes: Sequence[_Node]) -> list[list[str]]:
    """Groups of phases that could run in parallel: wave k holds the phases whose dependencies are all
    in earlier waves. Within a wave, spec order. Assumes a validated (acyclic) graph."""
    level: dict[str, int] = {}
    ids = {n.id for n in nodes}
    remaining = list(nodes)
    while remaining:
        progressed = []
        for n in remaining:
            known = [d for d in n.depends_on if d in ids]
            if all(d in level for d in known):
                level[n.id] = 1 + max((level[d] for d in known), default=-1)
                progressed.append(n)
        if not progressed:
            raise ValueError("dependency cycle: " + " -> ".join(find_cycle(nodes) or []))
        remaining = [n for n in remaining if n not in progressed]
    out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for n in nodes:
        out[level[n.id]].append(n.id)
    return out


def topological_order(nodes: Sequence[_Node]) -> list[str]:
    """Kahn's algorithm that always picks the earliest ready phase in spec order."""
    ids = [n.id for n in nodes]
    known = set(ids)
    pending = {n.id: {d for d in n.depends_on if d in known} for n in nodes}
    order: list[str] = []
    while len(order) < len(ids):
        ready = next((i for i in ids if i not in order and not pending[i] - set(order)), None)
        if ready is None:
            raise ValueError("dependency cycle: " + " -> ".join(find_cycle(nodes) or []))
        order.append(ready)
    return order
