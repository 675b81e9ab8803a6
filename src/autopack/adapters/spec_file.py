"""Reading a run spec file (YAML, or JSON by its .json suffix); parsing is core/spec.py's."""

from __future__ import annotations

from pathlib import Path

from autopack.core.spec import RunSpec, parse_spec_text
from autopack.errors import SpecError


def load_spec(path: str | Path) -> RunSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([f"(file): cannot read: {exc.strerror}"], str(p)) from None
    except UnicodeDecodeError:
        raise SpecError(["(file): not UTF-8 text"], str(p)) from None
    return parse_spec_text(text, str(p), "json" if p.suffix == ".json" else None)
