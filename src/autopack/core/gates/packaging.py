"""Which files say how a Python project is installed (pure). When a phase changes one, the test
environment the setup command made from the old ones is stale: the setup command runs again before
the tests (app/test_setup.py)."""

from __future__ import annotations

_NAMES = frozenset(
    {
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "uv.lock",
        "poetry.lock",
        "pdm.lock",
        "pipfile",
        "pipfile.lock",
        "environment.yml",
        "environment.yaml",
    }
)
_REQUIREMENT_PREFIXES = ("requirements", "constraints")
_REQUIREMENT_SUFFIXES = (".txt", ".in")


def is_packaging_file(path: str) -> bool:
    """True for a file a setup command installs from: pyproject.toml, setup.py/cfg, lock files,
    Pipfile, conda environment files, and requirements/constraints files (`requirements*.txt`,
    `*.in`, or any .txt/.in in a `requirements/` folder), in any folder."""
    parts = path.lower().split("/")
    name = parts[-1]
    if name in _NAMES:
        return True
    if not name.endswith(_REQUIREMENT_SUFFIXES):
        return False
    return name.startswith(_REQUIREMENT_PREFIXES) or "requirements" in parts[:-1]
