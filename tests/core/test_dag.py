"""Phase ordering: topological order stable in spec order, waves, cycles."""

from __future__ import annotations

import pytest

from autopack.core.dag import find_cycle, topological_order, waves
from autopack.core.spec import Phase


def P(pid: str, *deps: str) -> Phase:
    return Phase(id=pid, title=pid, depends_on=deps)


def test_independent_phases_keep_spec_order() -> None:
    nodes = [P("c"), P("a"), P("b")]
    assert topological_order(nodes) == ["c", "a", "b"]
    assert waves(nodes) == [["c", "a", "b"]]


def test_dependencies_come_first_and_order_is_otherwise_spec_order() -> None:
    nodes = [P("docs", "api"), P("api", "types"), P("types"), P("lint")]
    assert topological_order(nodes) == ["types", "api", "docs", "lint"]
    assert waves(nodes) == [["types", "lint"], ["api"], ["docs"]]


def test_diamond() -> None:
    nodes = [P("top"), P("left", "top"), P("right", "top"), P("join", "right", "left")]
    assert topological_order(nodes) == ["top", "left", "right", "join"]
    assert waves(nodes) == [["top"], ["left", "right"], ["join"]]


def test_order_is_deterministic() -> None:
    nodes = [P(f"p{i}", *([f"p{i - 3}"] if i >= 3 else [])) for i in range(10)]
    assert topological_order(nodes) == topological_order(list(nodes))
    order = topological_order(nodes)
    for n in nodes:
        for d in n.depends_on:
            assert order.index(d) < order.index(n.id)


def test_find_cycle_lists_the_cycle() -> None:
    assert find_cycle([P("a", "b"), P("b", "c"), P("c", "a")]) == ["a", "b", "c", "a"]
    assert find_cycle([P("a"), P("b", "a")]) is None
    assert find_cycle([P("a", "ghost")]) is None  # unknown deps are the validator's business


def test_order_and_waves_refuse_a_cycle() -> None:
    nodes = [P("a", "b"), P("b", "a")]
    with pytest.raises(ValueError, match="dependency cycle: a -> b -> a"):
        topological_order(nodes)
    with pytest.raises(ValueError, match="dependency cycle"):
        waves(nodes)


def test_a_long_chain_listed_from_the_end() -> None:
    n = 5000  # deeper than the recursion limit
    nodes = [P(f"p{i}", *([f"p{i + 1}"] if i + 1 < n else [])) for i in range(n)]
    assert find_cycle(nodes) is None
    assert topological_order(nodes) == [f"p{i}" for i in reversed(range(n))]
    assert waves(nodes) == [[f"p{i}"] for i in reversed(range(n))]
    closed = [*nodes[:-1], P(f"p{n - 1}", "p0")]
    cycle = find_cycle(closed)
    assert cycle is not None and len(cycle) == n + 1 and cycle[0] == cycle[-1] == "p0"
