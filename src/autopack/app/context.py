"""What the model sees of the repo for a phase: today the current text of the deliverables it
modifies (created files have none). Read through the workspace port."""

from __future__ import annotations

from collections.abc import Callable

from autopack.core.render.prompts import FileContext
from autopack.core.spec import DeliverableAction, Phase
from autopack.errors import PathPolicyError

MAX_CONTEXT_FILE_BYTES = 200_000
Reader = Callable[[str], bytes | None]


def context_files(phase: Phase, read: Reader) -> list[FileContext]:
    """The deliverables' current text: not for created files, nor binary or huge ones."""
    files = []
    for d in phase.deliverables:
        if d.action is DeliverableAction.create:
            continue
        path = d.old_path or d.path
        try:
            data = read(path)
        except PathPolicyError:  # a symlink, FIFO or folder: its op will be refused by name
            continue
        if data is None or len(data) > MAX_CONTEXT_FILE_BYTES or b"\x00" in data:
            continue
        files.append(FileContext(path=path, text=data.decode("utf-8", "replace")))
    return files
