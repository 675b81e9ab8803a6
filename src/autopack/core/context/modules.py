"""Python module names of repo files and import resolution (pure): `import a.b`, `from .x import
y` and names re-exported through `from m import name` or `from m import *` are followed to the file
that defines them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from autopack.core.context.scan import FileScan, ImportRef, Symbol

MAX_REEXPORT_DEPTH = 4
LOW_PRIORITY = ("docs/", "doc/", "examples/", "example/", "benchmarks/", "bench/")


def _is_python(path: str) -> bool:
    return path.endswith(".py")


def module_name(path: str, packages: set[str]) -> str:
    """`src/pkg/sub/mod.py` -> `pkg.sub.mod` when src/pkg holds an `__init__.py` (folders under
    the outermost package are part of the name, `__init__` or not, as namespace packages are; a
    package's `__init__.py` is the package itself); a file outside packages is its stem."""
    parts = path[: -len(".py")].split("/")
    folders = parts[:-1]
    top = next(
        (i for i in range(len(folders)) if "/".join(folders[: i + 1]) in packages), len(folders)
    )
    names = [*folders[top:], parts[-1]]
    if names[-1] == "__init__" and len(names) > 1:
        names.pop()
    return ".".join(names)


@dataclass(frozen=True)
class Definition:
    path: str
    symbol: Symbol | None  # None: `name` is a module (the file itself)


class ModuleIndex:
    """Module name <-> file for the repo's Python files; the first of two files claiming a name
    wins, in an order that prefers source over docs and examples, then shorter paths."""

    def __init__(self, paths: Iterable[str]) -> None:
        files = sorted(
            (p for p in paths if _is_python(p)),
            key=lambda p: (p.startswith(LOW_PRIORITY), p.count("/"), p),
        )
        packages = {p.rsplit("/", 1)[0] for p in files if p.endswith("/__init__.py")}
        self.by_module: dict[str, str] = {}
        self.module_of: dict[str, str] = {}
        self.loose: set[str] = set()  # files in a folder outside any package (namespace ones)
        for path in files:
            name = module_name(path, packages)
            self.module_of[path] = name
            if "/" in path and name == path.rsplit("/", 1)[-1][: -len(".py")]:
                self.loose.add(path)
            self.by_module.setdefault(name, path)
            dotted = path[: -len(".py")].replace("/", ".").removesuffix(".__init__")
            self.by_module.setdefault(dotted, path)  # `import tests.helpers` from the root

    def absolute(self, importer: str, ref: ImportRef) -> str:
        """The absolute module name an import in `importer` names."""
        if ref.level == 0:
            return ref.module
        if importer in self.loose:  # its package is its folder (by path: the name is the stem)
            parts = importer.split("/")[:-1]
        else:
            own = self.module_of.get(importer, "")
            package = own if importer.endswith("/__init__.py") else own.rpartition(".")[0]
            parts = package.split(".") if package else []
        base = parts[: max(0, len(parts) - (ref.level - 1))]
        return ".".join([*base, ref.module] if ref.module else base)

    def file_of(self, module: str) -> str | None:
        """The repo file of `module` (None for a module from outside the repo)."""
        return self.by_module.get(module)

    def targets(self, importer: str, ref: ImportRef) -> list[str]:
        """The repo files an import statement reaches: the module, and for `from m import x`
        each `x` that is itself a module."""
        module = self.absolute(importer, ref)
        out: list[str] = []
        found = self.file_of(module)
        if found is not None:
            out.append(found)
        for name, _ in ref.names:
            sub = self.file_of(f"{module}.{name}" if module else name)
            if sub is not None:
                out.append(sub)
        return out


class Resolver:
    """Follows a name to the file that defines it, through re-exports."""

    def __init__(
        self,
        modules: ModuleIndex,
        scans: Mapping[str, FileScan],
        tops: Mapping[str, Mapping[str, Symbol]],
    ) -> None:
        self.modules = modules
        self.scans = scans
        self.tops = tops  # path -> module-level name -> its (first) definition
        self._memo: dict[tuple[str, str], Definition | None] = {}

    def define(self, module: str, name: str) -> Definition | None:
        """Where `module.name` is defined (memoized: the index does not change)."""
        key = (module, name)
        if key not in self._memo:
            self._memo[key] = self._define(module, name, 0, set())
        return self._memo[key]

    def _define(self, module: str, name: str, depth: int, seen: set[str]) -> Definition | None:
        path = self.modules.file_of(module)
        if path is None or path in seen or depth > MAX_REEXPORT_DEPTH:
            return None
        seen.add(path)
        scan = self.scans.get(path)
        symbol = self.tops.get(path, {}).get(name)
        if symbol is not None:
            return Definition(path, symbol)
        sub = self.modules.file_of(f"{module}.{name}")
        if sub is not None:
            return Definition(sub, None)
        for ref in scan.imports if scan is not None else ():
            found = self._through(path, ref, name, depth, seen)
            if found is not None:
                return found
        return None

    def _through(
        self, path: str, ref: ImportRef, name: str, depth: int, seen: set[str]
    ) -> Definition | None:
        if not ref.is_from:
            return None
        if ref.star:
            return self._define(self.modules.absolute(path, ref), name, depth + 1, seen)
        for original, alias in ref.names:
            if alias == name:
                source = self.modules.absolute(path, ref)
                sub = self.modules.file_of(f"{source}.{original}" if source else original)
                if sub is not None:
                    return Definition(sub, None)
                return self._define(source, original, depth + 1, seen)
        return None
