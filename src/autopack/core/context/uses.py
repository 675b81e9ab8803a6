"""What a deliverable uses, read with `ast` (pure): its imports, the names it reads without
binding them, the attributes it reads (`mod.name`, `obj.method`) and, for imported modules, which
of their attributes it reads. A file that does not parse falls back to its identifiers."""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from functools import lru_cache

from autopack.core.context.scan import ImportRef

_BUILTINS = frozenset(dir(builtins))
_IDENT = re.compile(r"\b[A-Za-z_]\w{2,}\b")


@dataclass(frozen=True)
class Uses:
    imports: tuple[ImportRef, ...] = ()
    names: frozenset[str] = frozenset()  # read, not bound here, not builtins
    attributes: frozenset[str] = frozenset()  # `x.attr` for any x
    module_attributes: frozenset[tuple[str, str]] = frozenset()  # (alias, attr)
    bound: frozenset[str] = frozenset()

    def imported_aliases(self) -> dict[str, ImportRef]:
        """Local name -> the `import module [as alias]` that binds it."""
        out: dict[str, ImportRef] = {}
        for ref in self.imports:
            if not ref.is_from:
                out[ref.alias or ref.module.split(".")[0]] = ref
        return out


def _import_ref(node: ast.Import | ast.ImportFrom) -> list[ImportRef]:
    if isinstance(node, ast.Import):
        return [ImportRef(a.name, alias=a.asname or a.name) for a in node.names]
    names = tuple((a.name, a.asname or a.name) for a in node.names if a.name != "*")
    star = any(a.name == "*" for a in node.names)
    return [ImportRef(node.module or "", node.level, names, star=star, is_from=True)]


def _bind(node: ast.AST, bound: set[str]) -> None:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        bound.add(node.id)
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        bound.add(node.name)
    elif isinstance(node, ast.arg):
        bound.add(node.arg)
    elif isinstance(node, ast.alias):
        bound.add((node.asname or node.name).split(".")[0])
    elif isinstance(node, ast.ExceptHandler) and node.name:
        bound.add(node.name)


@lru_cache(maxsize=64)
def python_uses(text: str) -> Uses:
    """The uses of one module's source (identifiers only when it does not parse). Cached: a
    run asks again for each phase (callers must not change the result)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep: as unparsable
        return Uses(names=frozenset(set(_IDENT.findall(text)) - _BUILTINS))
    imports: list[ImportRef] = []
    read: set[str] = set()
    attributes: set[str] = set()
    module_attributes: set[tuple[str, str]] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports += _import_ref(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            read.add(node.id)
        elif isinstance(node, ast.Attribute):
            attributes.add(node.attr)
            if isinstance(node.value, ast.Name):
                module_attributes.add((node.value.id, node.attr))
        _bind(node, bound)
    return Uses(
        imports=tuple(imports),
        names=frozenset(n for n in read - bound if n not in _BUILTINS),
        attributes=frozenset(attributes),
        module_attributes=frozenset(module_attributes),
        bound=frozenset(bound),
    )


def goal_identifiers(text: str) -> set[str]:
    """Identifiers a phase's goal or descriptions name: words in backticks, and words that look
    like code (snake_case, CamelCase with an inner capital, or followed by `(`)."""
    found = set(re.findall(r"`([A-Za-z_][\w.]*)`", text))
    found |= set(re.findall(r"\b([A-Za-z]\w*_\w+|[A-Z][a-z0-9]+[A-Z]\w*|[a-z_]\w+(?=\())", text))
    out: set[str] = set()
    for item in found:
        out.update(part for part in item.split(".") if len(part) >= 3)
    return out
