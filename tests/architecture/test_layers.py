"""The architecture, checked: every module under src/autopack is parsed with `ast` and held to the
layer rules of DESIGN.md / README "Architecture".

- core/ is pure: it imports nothing of autopack outside core/ (errors.py aside), no I/O module, and
  calls no open(), os.environ / os.getenv, datetime.now / today or file read/write methods.
- ports.py sits on core; app/ drives ports and never imports an adapter (compose.py, the one
  composition root, is the exception); adapters never import app/ or a face; bench/ never imports a
  face; nothing imports bench/ but the commands.
- No relative imports, no module over 400 lines, no function over 60 lines.
- `Executor(` is constructed in exactly one place in src/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "autopack"

IO_MODULES = frozenset(
    {
        "subprocess", "socket", "shutil", "tempfile", "time", "git", "github", "anthropic",
        "httpx", "httpx2", "urllib.request", "importlib.resources", "pathlib", "io", "sys",
    }
)  # fmt: skip
IO_CALLS = frozenset(
    {
        "open", "os.environ", "os.getenv", "os.putenv", "datetime.now", "datetime.utcnow",
        "datetime.today", "date.today", "read_text", "read_bytes", "write_text", "write_bytes",
    }
)  # fmt: skip
FACES = ("cli", "commands", "action", "demo", "__main__")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. autopack.core.spec
    path: Path
    tree: ast.Module

    @property
    def layer(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[Module]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out.append(Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return out


MODULES = _modules()


def _imports(tree: ast.AST) -> Iterator[tuple[int, str, int]]:
    """(line, module, level) of every import, including those inside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            yield node.lineno, base, node.level
            for alias in node.names:  # `from importlib import resources`
                yield node.lineno, f"{base}.{alias.name}", node.level


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


def _io_uses(tree: ast.AST) -> list[tuple[int, str]]:
    return sorted(set(_io_nodes(tree)))


def _io_nodes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            tail = name.rsplit(".", 1)[-1]
            if name in IO_CALLS or tail in IO_CALLS or ".".join(name.split(".")[-2:]) in IO_CALLS:
                yield node.lineno, name
        elif isinstance(node, ast.Attribute) and _dotted(node) in IO_CALLS:
            yield node.lineno, _dotted(node)


def _allowed(importer: Module, target: str) -> bool:
    """May `importer` import the autopack module `target`?"""
    layer = importer.layer
    t = target.split(".")[1] if target.count(".") >= 1 else "__init__"
    if layer in ("core", "errors"):  # errors.py sits beside core (it names core's Usage)
        return t in ("core", "errors")
    if layer == "ports":
        return t in ("core", "errors", "ports")
    if layer == "app":
        if importer.name == "autopack.app.compose":
            return t in ("core", "errors", "ports", "app", "adapters")
        return t in ("core", "errors", "ports", "app")
    if layer == "adapters":
        return t in ("core", "errors", "ports", "adapters")
    if layer == "bench":
        return t in ("core", "errors", "ports", "app", "adapters", "bench")
    if t == "bench":  # only the commands that run benchmarks or read their records
        return layer == "commands"
    return True  # faces may import anything below them


def test_the_layout_exists() -> None:
    layers = {m.layer for m in MODULES}
    assert {"core", "app", "adapters", "commands", "action", "bench", "ports", "errors"} <= layers


def test_no_layer_imports_an_outer_one() -> None:
    problems = [
        f"{m.name}:{line} imports {target}"
        for m in MODULES
        for line, target, level in _imports(m.tree)
        if level == 0 and target.startswith("autopack.") and not _allowed(m, target)
    ]
    assert problems == []


def test_core_does_no_io() -> None:
    problems = []
    for m in (m for m in MODULES if m.layer == "core"):
        for line, target, _ in _imports(m.tree):
            if any(target == io or target.startswith(io + ".") for io in IO_MODULES):
                problems.append(f"{m.name}:{line} imports {target}")
        problems += [f"{m.name}:{line} calls {name}" for line, name in _io_uses(m.tree)]
    assert problems == []


def test_no_relative_imports() -> None:
    problems = [
        f"{m.name}:{line}" for m in MODULES for line, _, level in _imports(m.tree) if level > 0
    ]
    assert problems == []


def test_modules_and_functions_stay_small() -> None:
    problems = []
    for m in MODULES:
        lines = len(m.path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            problems.append(f"{m.name}: {lines} lines")
        for node in ast.walk(m.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    problems.append(f"{m.name}.{node.name}: {size} lines")
    assert problems == []


def test_the_executor_is_built_in_one_place() -> None:
    sites = [
        f"{m.name}:{node.lineno}"
        for m in MODULES
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Call) and _dotted(node.func) == "Executor"
    ]
    assert sites == ["autopack.app.compose:" + sites[0].split(":")[1]] if sites else sites


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import subprocess\n", ["imports subprocess"]),
        ("from importlib import resources\n", ["imports importlib.resources"]),
        ("import os\nx = os.environ['A']\n", ["calls os.environ"]),
        ("from datetime import datetime\nx = datetime.now()\n", ["calls datetime.now"]),
        ("f = open('x')\n", ["calls open"]),
        ("from pathlib import Path\n", ["imports pathlib"]),
        ("import json\nx = json.dumps({})\n", []),
    ],
)
def test_the_purity_check_catches_io(source: str, expected: list[str]) -> None:
    tree = ast.parse(source)
    found = [
        f"imports {t}"
        for _, t, _ in _imports(tree)
        if any(t == io or t.startswith(io + ".") for io in IO_MODULES)
    ]
    found += [f"calls {n}" for _, n in _io_uses(tree)]
    assert [f for f in found if any(e == f for e in expected)] == expected
    if not expected:
        assert found == []


def test_the_layer_check_catches_an_upward_import() -> None:
    core = Module("autopack.core.x", SRC / "core" / "x.py", ast.parse(""))
    app = Module("autopack.app.x", SRC / "app" / "x.py", ast.parse(""))
    assert not _allowed(core, "autopack.app.executor")
    assert not _allowed(core, "autopack.ports")
    assert not _allowed(app, "autopack.adapters.git_workspace")
    assert _allowed(app, "autopack.ports")
