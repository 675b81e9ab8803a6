"""Dependency-aware order and batches of a phase's deliverables (pure)."""

from __future__ import annotations

import ast

from autopack.core.budget.batching import (
    MAX_BATCH_FILES,
    corrected,
    defined_names,
    gaps,
    layout,
    split,
)
from autopack.core.budget.deps import Item, dependencies, layer, module_names, order
from autopack.core.context.uses import python_uses


def test_python_imports_order_a_module_before_its_importers() -> None:
    items = [
        Item(path="src/app/cli.py", text="from app.core import run\nimport app.settings\n"),
        Item(path="src/app/core.py", text="from .settings import Options\n"),
        Item(path="src/app/settings.py", text="X = 1\n"),
        Item(path="tests/test_core.py", text="from app.core import run\nfrom helpers import mk\n"),
        Item(path="tests/helpers.py", text="def mk(): ...\n"),
    ]
    deps = dependencies(items)
    assert deps["src/app/cli.py"] == {"src/app/core.py", "src/app/settings.py"}
    assert deps["src/app/core.py"] == {"src/app/settings.py"}  # relative import
    assert deps["tests/test_core.py"] == {"src/app/core.py", "tests/helpers.py"}
    assert order(items) == [
        "src/app/settings.py",
        "src/app/core.py",
        "src/app/cli.py",
        "tests/helpers.py",
        "tests/test_core.py",
    ]


def test_layers_decide_without_imports_and_ties_keep_the_spec_order() -> None:
    paths = ["README.md", "tests/test_b.py", "pkg/b.py", "pkg/a.py", "pkg/errors.py", "setup.py"]
    assert [layer(p) for p in paths] == [5, 4, 1, 1, 0, 2]
    got = order([Item(path=p, action="create") for p in paths])
    assert got == [
        "pkg/errors.py",
        "pkg/b.py",
        "pkg/a.py",
        "setup.py",
        "tests/test_b.py",
        "README.md",
    ]


def test_created_files_use_names_and_descriptions() -> None:
    items = [
        Item(path="pkg/zeta.py", action="create", description="uses Alpha from alpha.py"),
        Item(path="pkg/alpha.py", action="create"),
        Item(path="tests/test_zeta.py", action="create"),
    ]
    deps = dependencies(items)
    assert deps["pkg/zeta.py"] == {"pkg/alpha.py"}
    assert deps["tests/test_zeta.py"] == {"pkg/zeta.py"}
    assert order(items) == ["pkg/alpha.py", "pkg/zeta.py", "tests/test_zeta.py"]


def test_javascript_relative_imports_are_followed() -> None:
    items = [
        Item(path="web/app.ts", text="import { x } from './util'\nconst y = require('../lib/y')\n"),
        Item(path="web/util.ts", text="export const x = 1\n"),
        Item(path="lib/y.js", text="module.exports = 2\n"),
    ]
    assert dependencies(items)["web/app.ts"] == {"web/util.ts", "lib/y.js"}
    assert order(items)[-1] == "web/app.ts"


def test_an_import_cycle_is_written_together_and_its_importers_after_it() -> None:
    items = [
        Item(path="tests/test_import.py", text="import pkg\nimport pkg.b\n"),
        Item(path="pkg/__init__.py", text="from pkg.b import B\n"),
        Item(path="pkg/b.py", text="import pkg\n"),
    ]
    assert order(items) == ["pkg/b.py", "pkg/__init__.py", "tests/test_import.py"]


def test_module_names_cover_source_roots_and_packages() -> None:
    assert module_names("src/attr/_make.py") == [
        ("src.attr._make", ""),
        ("attr._make", "src"),
        ("_make", "src/attr"),
    ]
    assert module_names("pkg/__init__.py") == [("pkg", "")]
    assert module_names("README.md") == []


def test_split_only_when_needed() -> None:
    paths = [f"m{i}.py" for i in range(5)]
    assert split(paths, dict.fromkeys(paths, 100), capacity=1000) == [paths]
    assert split(paths, dict.fromkeys(paths, 400), capacity=1000) == [
        paths[:2],
        paths[2:4],
        paths[4:],
    ]
    many = [f"m{i}.py" for i in range(MAX_BATCH_FILES + 1)]
    assert [len(b) for b in split(many, {}, capacity=10**6)] == [MAX_BATCH_FILES, 1]
    assert split([], {}, 10) == [[]]
    shape = layout([Item(path=p, action="create") for p in paths], {}, 10)
    assert shape.batches == [shape.order]


def test_defined_names_reads_top_level_definitions() -> None:
    text = (
        "import os\nfrom x import y as z\nA = 1\nB: int = 2\n"
        "def f(): ...\nclass C: ...\nif os:\n    D = 3\nelse:\n    E = 4\n"
        "try:\n    import json\nexcept ImportError:\n    json = None\n"
    )
    assert defined_names(text) == {"os", "z", "A", "B", "f", "C", "D", "E", "json"}
    assert defined_names("def (") is None


def test_gaps_name_what_an_earlier_batch_imports_but_nothing_defines_yet() -> None:
    files = {
        "pkg/api.py": b"from pkg.models import User, Group\nimport pkg.client\nfrom pkg import io\n",
        "pkg/models.py": b"class User: ...\n",
    }
    later = ["pkg/models.py", "pkg/client.py", "pkg/io.py"]
    found = gaps(["pkg/api.py"], later, files.get)
    assert found == [
        ("pkg/api.py", "Group", "pkg/models.py"),
        ("pkg/api.py", "*", "pkg/client.py"),
        ("pkg/api.py", "io", "pkg/io.py"),
    ]
    files["pkg/models.py"] += b"class Group: ...\n"
    files["pkg/client.py"] = b""
    files["pkg/io.py"] = b""
    assert gaps(["pkg/api.py"], later, files.get) == []


def test_corrected_moves_the_defining_files_into_the_next_batch() -> None:
    batches = [["a.py"], ["b.py", "c.py"], ["d.py", "e.py"]]
    assert corrected(batches, 1, ["e.py"]) == [["a.py"], ["b.py", "c.py", "e.py"], ["d.py"]]
    assert corrected(batches, 1, ["d.py", "e.py"]) == [["a.py"], ["b.py", "c.py", "d.py", "e.py"]]


def test_a_large_deliverable_is_parsed_once_per_content(monkeypatch) -> None:
    # The sizing asks for a phase's layout several times (the run's context budgets, then each
    # batch): a 1 MB module took seconds to parse, each time.
    parsed: list[int] = []
    real_parse = ast.parse

    def counting(text: str, *args: object, **kwargs: object) -> ast.AST:
        parsed.append(len(text))
        return real_parse(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ast, "parse", counting)
    big = "from .b import B\n" + "x = 1\n" * 1000 + "# unique to this test\n"
    items = [Item(path="pkg/a.py", text=big), Item(path="pkg/b.py", text="B = 1\n# t2\n")]
    first = dependencies(items)
    assert dependencies(items) == first == {"pkg/a.py": {"pkg/b.py"}, "pkg/b.py": set()}
    assert parsed.count(len(big)) == 1


def test_a_module_too_deep_for_the_parser_is_read_as_one_that_does_not_parse() -> None:
    # A long chain (`A = "a" + "b" + ...`, generated code) raises RecursionError in `ast.parse`,
    # not SyntaxError: it stopped the sizing of the phase, and the run, with a traceback.
    deep = "from .b import BETA\nA = " + " + ".join(["BETA"] * 5_000) + "\n"
    items = [Item(path="pkg/a.py", text=deep), Item(path="pkg/b.py", text="BETA = 'b'\n")]
    assert dependencies(items) == {"pkg/a.py": set(), "pkg/b.py": set()}
    assert defined_names(deep) is None
    assert "BETA" in python_uses(deep).names  # the identifiers, as for a file that does not parse
