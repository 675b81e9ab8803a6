"""The context engine's readers: the line scanner, module resolution, `ast` uses, PageRank."""

from __future__ import annotations

import pytest

from autopack.core.context.index import RepoFiles, RepoIndex, is_test
from autopack.core.context.modules import ModuleIndex, module_name
from autopack.core.context.rank import pagerank
from autopack.core.context.render import doc_line, header, signature
from autopack.core.context.scan import ImportRef, ScanCache, blob_sha, scan_python
from autopack.core.context.uses import goal_identifiers, python_uses

SOURCE = '''"""Module doc."""
import os, sys as system
from . import a, b as c
from ..pkg.mod import (
    x,  # a comment
    y as z,
)
from toolz.utils import *
ib = attr = attrib
X: int = 5
a, b = 1, 2
if PY3:
    def f(x): pass
    V = 3
try:
    from foo import bar
except ImportError:
    bar = None
class K(Base):
    """A class.

    More text."""
    field: int = 0
    def m(self, a,
          b) -> dict[str, int]:
        """Do m."""
        import json
        local = 1
    class Inner: pass
def g(a=1) -> None:
    z = 2
    for i in x:
        pass
async def h(): ...
'''


def test_the_scanner_finds_definitions_where_python_binds_them() -> None:
    scan = scan_python(SOURCE)
    found = [(s.name, s.kind, s.parent) for s in scan.symbols]
    assert found == [
        ("ib", "var", ""),
        ("attr", "var", ""),
        ("X", "var", ""),
        ("a", "var", ""),
        ("b", "var", ""),
        ("f", "def", ""),  # under a top-level if
        ("V", "var", ""),
        ("bar", "var", ""),  # under a top-level except
        ("K", "class", ""),
        ("field", "attr", "K"),
        ("m", "def", "K"),
        ("Inner", "class", "K"),
        ("g", "def", ""),
        ("h", "def", ""),
    ]  # nothing from inside function bodies (local, z, i)
    k = next(s for s in scan.symbols if s.name == "K")
    assert SOURCE[k.offset :].startswith("class K(Base):")
    assert scan.top_level()["attr"].value == "= attrib"


def test_the_scanner_reads_every_form_of_import() -> None:
    imports = scan_python(SOURCE).imports
    assert imports == (
        ImportRef("os", alias="os"),
        ImportRef("sys", alias="system"),
        ImportRef("", 1, (("a", "a"), ("b", "c")), is_from=True),
        ImportRef("pkg.mod", 2, (("x", "x"), ("y", "z")), is_from=True),
        ImportRef("toolz.utils", star=True, is_from=True),
        ImportRef("foo", names=(("bar", "bar"),), is_from=True),  # indented, in a try
        ImportRef("json", alias="json"),  # inside a method
    )


def test_signatures_are_one_line_with_the_docstring_first_line() -> None:
    scan = scan_python(SOURCE)
    syms = {s.name: s for s in scan.symbols}
    assert header(SOURCE, syms["m"])[0] == "def m(self, a, b) -> dict[str, int]"
    assert (
        signature(SOURCE, syms["m"], doc=True)
        == 'def m(self, a, b) -> dict[str, int]:\n    """Do m."""'
    )
    assert signature(SOURCE, syms["K"], doc=True) == 'class K(Base):\n    """A class."""'
    assert signature(SOURCE, syms["g"]) == "def g(a=1) -> None: ..."
    assert signature(SOURCE, syms["attr"]) == "attr = attrib"  # one line per chained target
    assert signature(SOURCE, syms["X"]) == "X: int = 5"
    tuple_default = "def make(bases=(object,),\n         x=1,\n):\n    pass\n"
    only = scan_python(tuple_default).symbols[0]
    assert header(tuple_default, only)[0] == "def make(bases=(object,), x=1)"
    assert doc_line('\n    """\n    Second line is the first with text.\n    """', 0) == (
        "Second line is the first with text."
    )


def test_scans_are_cached_by_blob_sha() -> None:
    assert blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object
    cache = ScanCache()
    first = cache.scan(blob_sha(b"x = 1\n"), "x = 1\n")
    assert cache.scan(blob_sha(b"x = 1\n"), "x = 1\n") is first
    assert (cache.hits, cache.misses) == (1, 1)


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("src/pkg/sub/mod.py", "pkg.sub.mod"),
        ("src/pkg/__init__.py", "pkg"),
        ("tests/test_x.py", "test_x"),
        ("setup.py", "setup"),
    ],
)
def test_module_names_follow_packages(path: str, module: str) -> None:
    packages = {"src/pkg", "src/pkg/sub"}
    assert module_name(path, packages) == module


def test_relative_imports_and_reexports_resolve_to_the_defining_file() -> None:
    files = {
        "src/pkg/__init__.py": "from .core import *\nfrom .helpers import helper as public_helper\n",
        "src/pkg/core.py": "from pkg.deep import deep_thing\ndef core_fn(): pass\n",
        "src/pkg/deep.py": "def deep_thing(): pass\n",
        "src/pkg/helpers.py": "def helper(): pass\n",
        "src/pkg/sub/user.py": "from ..helpers import helper\nfrom .. import core\n",
    }
    index = RepoIndex(RepoFiles(paths=sorted(files), texts=files))
    modules: ModuleIndex = index.modules
    user = "src/pkg/sub/user.py"
    ref = index.scans[user].imports[0]
    assert modules.absolute(user, ref) == "pkg.helpers"
    assert modules.targets(user, index.scans[user].imports[1]) == [
        "src/pkg/__init__.py",
        "src/pkg/core.py",
    ]
    define = index.resolver.define
    assert define("pkg", "core_fn").path == "src/pkg/core.py"  # through the star import
    assert define("pkg", "deep_thing").path == "src/pkg/deep.py"  # two re-exports down
    found = define("pkg", "public_helper")
    assert found is not None and found.path == "src/pkg/helpers.py"
    assert found.symbol is not None and found.symbol.name == "helper"
    assert define("pkg", "missing") is None
    assert index.graph[user]["src/pkg/helpers.py"] == 1.0
    assert "src/pkg/sub/user.py" in index.importers["src/pkg/helpers.py"]


def test_uses_read_with_ast() -> None:
    uses = python_uses(
        "import mod\nfrom pkg import thing\n"
        "def f(arg):\n    local = helper(arg)\n    return mod.util(local).attr + thing\n"
    )
    assert uses.names == {"helper"}  # not arg, local, f, thing (imported) nor builtins
    assert ("mod", "util") in uses.module_attributes
    assert {"util", "attr"} <= uses.attributes
    assert [r.module for r in uses.imports] == ["mod", "pkg"]
    broken = python_uses("def broken(:\n    call_me()\n")
    assert "call_me" in broken.names  # identifiers when the file does not parse


def test_goal_identifiers_look_like_code() -> None:
    found = goal_identifiers("Make `Config.load` retry in fetch_all() via RetryPolicy; the plan")
    assert {"Config", "load", "fetch_all", "RetryPolicy"} <= found
    assert "plan" not in found and "the" not in found


def test_tests_are_recognised() -> None:
    assert is_test("tests/unit/helpers.py") and is_test("pkg/test_x.py") and is_test("conftest.py")
    assert not is_test("src/pkg/testing_utils.py")


def test_pagerank_is_personalized_and_deterministic() -> None:
    nodes = ["a", "b", "c", "d"]
    graph = {"a": {"b": 1.0}, "b": {"c": 1.0}, "c": {}, "d": {"c": 1.0}}
    rank = pagerank(nodes, graph, {"a": 1.0})
    assert rank["a"] > rank["b"] > rank["c"] > rank["d"] == 0.0
    assert pytest.approx(sum(rank.values())) == 1.0
    assert pagerank(nodes, graph, {"a": 1.0}) == rank
    uniform = pagerank(["x", "y"], {"x": {"y": 1.0}, "y": {"x": 1.0}})
    assert uniform["x"] == pytest.approx(uniform["y"])


def test_relative_imports_in_a_namespace_package_resolve_by_folder() -> None:
    # No `__init__.py` anywhere (PEP 420): `from .util import f` in src/ns/app/main.py is
    # src/ns/app/util.py, not the shallower util.py another folder happens to hold.
    files = {
        "tools/util.py": "def f(): pass\n",
        "src/ns/app/util.py": "def f(): pass\n",
        "src/ns/app/main.py": "from .util import f\nfrom . import util\n",
        "src/ns/helpers.py": "def h(): pass\n",
        "src/ns/app/deep.py": "from ..helpers import h\n",
    }
    index = RepoIndex(RepoFiles(paths=sorted(files), texts=files))
    main = "src/ns/app/main.py"
    for ref in index.scans[main].imports:
        assert index.reached(main, ref) == ["src/ns/app/util.py"]
    deep = "src/ns/app/deep.py"
    assert index.reached(deep, index.scans[deep].imports[0]) == ["src/ns/helpers.py"]
