"""Repository instructions for the model (pure): `AGENTS.md`, `CLAUDE.md` and
`.github/copilot-instructions.md` at the root, and the nearest `AGENTS.md` / `CLAUDE.md` above each
deliverable's folder, plus the run's `instructions` setting. They are the maintainers' text
(trusted, not fenced like issue text) but bounded in size."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from autopack.core.untrusted import sanitize

FOLDER_FILES = ("AGENTS.md", "CLAUDE.md")
ROOT_FILES = (*FOLDER_FILES, ".github/copilot-instructions.md")
MAX_FILE_CHARS = 8_000


@dataclass(frozen=True)
class Instruction:
    source: str  # a repo path, or where the run setting came from
    text: str


def is_instruction_file(path: str) -> bool:
    return path in ROOT_FILES or path.rsplit("/", 1)[-1] in FOLDER_FILES


def instruction_paths(paths: Iterable[str], folders: Iterable[str]) -> list[str]:
    """The instruction files to read: the root's, then for each folder (sorted) the first
    `AGENTS.md` and the first `CLAUDE.md` found walking up from it (below the root)."""
    present = set(paths)
    out = [p for p in ROOT_FILES if p in present]
    for folder in sorted({f.strip("/") for f in folders if f.strip("/")}):
        parts = folder.split("/")
        for name in FOLDER_FILES:
            for depth in range(len(parts), 0, -1):
                candidate = "/".join([*parts[:depth], name])
                if candidate in present:
                    if candidate not in out:
                        out.append(candidate)
                    break
    return out


def _clip(text: str, limit: int) -> str:
    """`text` within `limit` characters, a note included when it was cut."""
    if len(text) <= limit:
        return text
    room = max(0, limit - 48)
    cut = text.rfind("\n", 0, room)
    kept = text[: cut if cut > room // 2 else room].rstrip()
    return f"{kept}\n[... {len(text) - len(kept):,} more characters not shown]"


def bounded(
    found: Iterable[Instruction], limit_chars: int, per_file: int = MAX_FILE_CHARS
) -> list[Instruction]:
    """Each text stripped of invisible characters and clipped to `per_file` characters, in order,
    until `limit_chars` are used; identical texts (a CLAUDE.md copied from AGENTS.md) once."""
    out: list[Instruction] = []
    seen: set[str] = set()
    left = limit_chars
    for item in found:
        text = sanitize(item.text)
        if not text or text in seen or left < 200:
            continue
        seen.add(text)
        clipped = _clip(text, min(per_file, left))
        out.append(Instruction(item.source, clipped))
        left -= len(clipped) + len(item.source) + 8
    return out


def repo_instructions(
    texts: Mapping[str, str], paths: Iterable[str], folders: Iterable[str]
) -> list[Instruction]:
    """The instruction files among `paths` that concern `folders`, with their text."""
    return [Instruction(p, texts[p]) for p in instruction_paths(paths, folders) if p in texts]
