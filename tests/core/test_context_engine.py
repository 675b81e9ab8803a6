"""The context engine: related files, the repo map, instructions, the budget."""

from __future__ import annotations

import time

import pytest

from autopack.core.context.budget import ContextSettings, context_budget, instruction_chars
from autopack.core.context.engine import PhaseFocus, related_blocks, shared_context
from autopack.core.context.index import RepoFiles, RepoIndex
from autopack.core.context.instructions import Instruction, bounded, instruction_paths
from autopack.core.context.related import Focus, candidates
from autopack.core.context.render import tokens
from autopack.core.context.repomap import repo_map


def big_module(n: int, prefix: str = "fn") -> str:
    return "".join(
        f'def {prefix}_{i}(value: int, *, scale: float = 1.0) -> int:\n    """Return {i}."""\n'
        f"    return int(value * scale) + {i}\n\n\n"
        for i in range(n)
    )


REPO = {
    "src/shop/__init__.py": "from shop.cart import Cart\n",
    "src/shop/cart.py": (
        "from shop.money import Money, round_cents\nfrom shop import tax\n\n"
        "class Cart:\n    def total(self) -> Money:\n        return round_cents(tax.vat(1))\n"
    ),
    "src/shop/money.py": "class Money:\n    amount: int = 0\n\ndef round_cents(x):\n    return x\n",
    "src/shop/tax.py": big_module(60, "vat") + "def vat(x: int) -> int:\n    return x\n",
    "src/shop/report.py": "from shop.cart import Cart\n\ndef report(c: Cart) -> str:\n    return ''\n",
    "src/other/far.py": big_module(40, "far"),
    "tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef cart():\n    return None\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_total(cart):\n    assert Cart()\n",
    "AGENTS.md": "Run `make check` before you finish.\n",
    "src/shop/AGENTS.md": "Money is in cents.\n",
    "docs/guide.md": "# Guide\n",
}


def index_of(files: dict[str, str]) -> RepoIndex:
    texts = {p: t for p, t in files.items() if p.endswith((".py", ".md"))}
    return RepoIndex(RepoFiles(paths=sorted(files), texts=texts))


def test_candidates_rank_imports_callers_tests_and_fixtures() -> None:
    index = index_of(REPO)
    found = {c.path: c for c in candidates(index, Focus((("src/shop/cart.py", "modify"),)))}
    assert found["src/shop/money.py"].needed >= {"Money", "round_cents"}
    assert "vat" in found["src/shop/tax.py"].needed  # `tax.vat` through `from shop import tax`
    assert "src/shop/report.py" in found and "tests/test_cart.py" in found  # caller, test
    order = list(found)
    assert order.index("src/shop/money.py") < order.index("src/shop/report.py")
    assert "src/other/far.py" not in found and "src/shop/cart.py" not in found
    test_focus = Focus((("tests/test_cart.py", "modify"),))
    assert "tests/conftest.py" in {c.path for c in candidates(index, test_focus)}


def test_related_files_whole_when_small_else_the_needed_signatures_within_budget() -> None:
    index = index_of(REPO)
    blocks = {
        b.path: b for b in related_blocks(index, Focus((("src/shop/cart.py", "modify"),)), 600)
    }
    assert blocks["src/shop/money.py"].view == "whole"
    tax = blocks["src/shop/tax.py"]
    assert tax.view == "outline" and "def vat(x: int) -> int" in tax.text
    assert "return x" not in tax.text  # bodies are not shown
    assert sum(b.tokens for b in blocks.values()) <= 600
    tiny = related_blocks(index, Focus((("src/shop/cart.py", "modify"),)), 60)
    assert sum(b.tokens for b in tiny) <= 60
    assert related_blocks(index, Focus((("src/shop/cart.py", "modify"),)), 0) == []


def test_a_new_file_gets_what_its_folder_neighbours_use() -> None:
    index = index_of(REPO)
    focus = Focus((("src/shop/invoice.py", "create"),))
    paths = [c.path for c in candidates(index, focus)]
    assert "src/shop/cart.py" in paths and "src/shop/money.py" in paths


def test_earlier_phases_files_come_first() -> None:
    index = index_of(REPO)
    focus = Focus((("src/shop/report.py", "modify"),), earlier=("src/other/far.py",))
    assert candidates(index, focus)[0].path == "src/other/far.py"


def test_the_repo_map_ranks_by_closeness_and_fits_its_budget() -> None:
    index = index_of(REPO)
    text = repo_map(index, {"src/shop/cart.py": 1.0}, 400, exclude={"src/shop/cart.py"})
    assert tokens(text) <= 400
    assert "src/shop/cart.py" not in text.splitlines()
    lines = text.splitlines()
    assert lines.index("src/shop/money.py:") < next(
        i for i, line in enumerate(lines) if line.startswith("src/other/far.py")
    )
    small = repo_map(index, {"src/shop/cart.py": 1.0}, 40)
    assert tokens(small) <= 40 and small.endswith("not listed)")
    assert "(1 test)" in repo_map(index, {"tests/test_cart.py": 1.0}, 2000)


def test_instruction_files_at_the_root_and_above_each_deliverable() -> None:
    paths = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md", "a/AGENTS.md",
             "a/b/CLAUDE.md", "z/AGENTS.md"]  # fmt: skip
    assert instruction_paths(paths, ["a/b/c", "a/b"]) == [
        "AGENTS.md",
        "CLAUDE.md",
        ".github/copilot-instructions.md",
        "a/AGENTS.md",  # the first AGENTS.md walking up from a/b/c
        "a/b/CLAUDE.md",
    ]


def test_instructions_are_bounded_and_cleaned() -> None:
    long = "rule\n" * 5000
    out = bounded(
        [
            Instruction("AGENTS.md", "Use tabs.<!-- hidden -->\u200b"),
            Instruction("CLAUDE.md", "Use tabs."),  # a copy: shown once
            Instruction("big/AGENTS.md", long),
        ],
        limit_chars=3000,
    )
    assert [i.source for i in out] == ["AGENTS.md", "big/AGENTS.md"]
    assert out[0].text == "Use tabs."
    assert len(out[1].text) < 3000 and "more characters not shown" in out[1].text


def test_the_budget_scales_with_window_and_estimated_output() -> None:
    default = ContextSettings()
    assert context_budget(default, 1_000_000, None) == 8_000
    assert context_budget(default, 1_000_000, 20_000) == 13_000
    assert context_budget(default, 1_000_000, 500_000) == 20_000
    assert context_budget(default, 100_000, None) == 4_000  # a small window gets less
    assert context_budget(ContextSettings(budget_tokens=3_000), 1_000_000, 50_000) == 3_000
    assert instruction_chars(8_000) == 7_200


def test_shared_context_gives_the_map_what_instructions_and_related_files_leave() -> None:
    index = index_of(REPO)
    focus = Focus((("src/shop/cart.py", "modify"),))
    shared = shared_context(
        index, [PhaseFocus(focus, 1_500)], [Instruction("run setting", "Be brief.")]
    )
    assert [i.source for i in shared.instructions] == [
        "AGENTS.md",
        "src/shop/AGENTS.md",
        "run setting",
    ]
    related = related_blocks(index, focus, shared.related_cap[0])
    total = shared.instruction_tokens + tokens(shared.repo_map) + sum(b.tokens for b in related)
    assert total <= 1_500
    assert "src/shop/money.py" not in shared.repo_map  # shown as a related file instead
    assert "src/other/far.py" in shared.repo_map


def test_a_two_thousand_file_repo_is_indexed_and_its_context_built_quickly() -> None:
    files: dict[str, str] = {}
    for p in range(40):
        files[f"src/pkg{p}/__init__.py"] = f"from pkg{p}.mod0 import *\n"
        for m in range(49):
            imports = f"from pkg{(p + 1) % 40}.mod{m} import fn_{m}_0\nfrom pkg{p} import mod{(m + 1) % 49}\n"
            files[f"src/pkg{p}/mod{m}.py"] = imports + big_module(12, f"fn_{m}")
    assert len(files) == 2000
    started = time.perf_counter()
    index = index_of(files)
    focus = Focus((("src/pkg3/mod7.py", "modify"),))
    shared = shared_context(index, [PhaseFocus(focus, 8_000)])
    blocks = related_blocks(index, focus, shared.related_cap[0])
    elapsed = time.perf_counter() - started
    assert blocks and shared.repo_map
    assert elapsed < 5.0  # measured well under a second; generous for slow CI machines


@pytest.mark.parametrize("budget", [0, 100, 1000, 5000])
def test_the_whole_context_never_exceeds_its_budget(budget: int) -> None:
    index = index_of(REPO)
    focus = Focus((("src/shop/cart.py", "modify"), ("tests/test_cart.py", "modify")))
    shared = shared_context(index, [PhaseFocus(focus, budget)])
    related = related_blocks(index, focus, shared.related_cap[0])
    used = shared.instruction_tokens + tokens(shared.repo_map) + sum(b.tokens for b in related)
    assert used <= max(budget, shared.instruction_tokens)
