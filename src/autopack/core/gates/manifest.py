"""The manifest gate's symbol check (pure). Python files are parsed: a symbol counts when it is
defined (class, function, async function, assignment or annotated assignment, import alias) at module
level, or inside a class (`Class.attr` or just `attr`); names in comments, strings or function bodies
do not count. Other files count a symbol when it occurs as a whole word."""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel, ConfigDict


class SymbolCheck(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    missing: tuple[str, ...] = ()
    syntax_error: str | None = None
    line: int | None = None


def _targets(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Tuple | ast.List):
        return [n for elt in node.elts for n in _targets(elt)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    return []


def _scope_names(body: list[ast.stmt], prefix: str, out: set[str]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            out.add(prefix + stmt.name)
            _scope_names(stmt.body, f"{prefix}{stmt.name}.", out)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            out.add(prefix + stmt.name)
        elif isinstance(stmt, ast.Assign):
            out.update(prefix + n for t in stmt.targets for n in _targets(t))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            out.update(prefix + n for n in _targets(stmt.target))
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                if alias.name != "*":
                    out.add(prefix + (alias.asname or alias.name.split(".")[0]))
        elif isinstance(stmt, ast.If | ast.Try | ast.With | ast.AsyncWith | ast.For | ast.While):
            # Conditional definitions (`if TYPE_CHECKING:`, `try: ... except ImportError:`).
            for block in ("body", "orelse", "finalbody"):
                _scope_names(getattr(stmt, block, []), prefix, out)
            for handler in getattr(stmt, "handlers", []):
                _scope_names(handler.body, prefix, out)


def python_symbols(source: str, filename: str = "<file>") -> set[str]:
    """Defined names; a class member is both `Class.member` and `member`. Raises SyntaxError."""
    tree = ast.parse(source, filename=filename)
    names: set[str] = set()
    _scope_names(tree.body, "", names)
    return names | {n.rsplit(".", 1)[-1] for n in names}


def check_symbols(path: str, text: str, symbols: list[str] | tuple[str, ...]) -> SymbolCheck:
    if path.endswith((".py", ".pyi")):
        try:
            defined = python_symbols(text, path)
        except SyntaxError as exc:
            where = f"{path}:{exc.lineno}" if exc.lineno else path
            return SymbolCheck(syntax_error=f"{where}: {exc.msg}", line=exc.lineno or 1)
        return SymbolCheck(missing=tuple(s for s in symbols if s not in defined))
    missing = tuple(s for s in symbols if not re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text))
    return SymbolCheck(missing=missing)
