"""What a deliverable uses, read with `ast` (pure): its imports, the names it reads without
binding them, the attributes it reads (`mod.name`, `obj.method`) and, for imported modules, which
of their attributes it reads. A file that does not parse falls back to its identifiers."""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

from autopack.core.context.scan import ImportRef

_BUILTINS = frozenset(dir(builtins))
_IDENT = re.compile(r"\b[A-Za-z_]\w{2,}\b")


@dataclass
class Uses:
    imports: list[ImportRef] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # read, not bound here, not builtins
    attributes: set[str] = field(default_factory=set)  # `x.attr` for any x
    module_attributes: set[tuple[str, str]] = field(default_factory=set)  # (alias, attr)
    bound: set[str] = field(default_factory=set)

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


def python_uses(text: str) -> Uses:
    """The uses of one module's source (identifiers only when it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return Uses(names=set(_IDENT.findall(text)) - _BUILTINS)
    uses = Uses()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            uses.imports += _import_ref(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            read.add(node.id)
        elif isinstance(node, ast.Attribute):
            uses.attributes.add(node.attr)
            if isinstance(node.value, ast.Name):
                uses.module_attributes.add((node.value.id, node.attr))
        _bind(node, uses.bound)
    uses.names = {n for n in read - uses.bound if n not in _BUILTINS}
    return uses


def goal_identifiers(text: str) -> set[str]:
    """Identifiers a phase's goal or descriptions name: words in backticks, and words that look
    like code (snake_case, CamelCase with an inner capital, or followed by `(`)."""
    found = set(re.findall(r"`([A-Za-z_][\w.]*)`", text))
    found |= set(re.findall(r"\b([A-Za-z]\w*_\w+|[A-Z][a-z0-9]+[A-Z]\w*|[a-z_]\w+(?=\())", text))
    out: set[str] = set()
    for item in found:
        out.update(part for part in item.split(".") if len(part) >= 3)
    return out
