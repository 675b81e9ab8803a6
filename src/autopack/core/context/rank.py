"""Personalized PageRank over the repo's reference graph (pure, deterministic), as aider ranks
its repo map: rank flows from the files a phase works on along imports (and, weaker, back to
their importers), so files close to the work rank high."""

from __future__ import annotations

from collections.abc import Mapping

Graph = Mapping[str, Mapping[str, float]]

DAMPING = 0.85
ITERATIONS = 30
TOLERANCE = 1e-7  # the ranks only order files


def pagerank(
    nodes: list[str], graph: Graph, personal: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Rank of each node; `personal` (node -> weight) is where the random walk restarts (every
    node alike when empty). Dangling nodes restart too. Iteration order is the order of `nodes`."""
    if not nodes:
        return {}
    index = {n: i for i, n in enumerate(nodes)}
    size = len(nodes)
    weights = {n: w for n, w in (personal or {}).items() if n in index and w > 0}
    total = sum(weights.values())
    restart = [0.0] * size
    if total > 0:
        for n, w in weights.items():
            restart[index[n]] = w / total
    else:
        restart = [1.0 / size] * size
    out: list[list[tuple[int, float]]] = [[] for _ in range(size)]
    for n in nodes:
        edges = graph.get(n, {})
        norm = sum(w for t, w in edges.items() if t in index and t != n)
        if norm > 0:
            out[index[n]] = [
                (index[t], w / norm) for t, w in sorted(edges.items()) if t in index and t != n
            ]
    rank = list(restart)
    for _ in range(ITERATIONS):
        nxt = [0.0] * size
        dangling = 0.0
        for i, r in enumerate(rank):
            if out[i]:
                for j, w in out[i]:
                    nxt[j] += DAMPING * r * w
            else:
                dangling += DAMPING * r
        for i in range(size):
            nxt[i] += (1 - DAMPING + dangling) * restart[i]
        delta = sum(abs(a - b) for a, b in zip(nxt, rank, strict=True))
        rank = nxt
        if delta < TOLERANCE:
            break
    return {n: rank[i] for n, i in index.items()}
