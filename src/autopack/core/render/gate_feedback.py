"""The user turn of a repair round: a blocked phase's gate failures, sent back to the model in the
same conversation (pure rendering)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autopack.core.gates.decision import PhaseDecision
from autopack.core.render.prompts import FileContext, render
from autopack.errors import AutopackError

MAX_FILE_BYTES = 50_000
MAX_FILES = 8


def gate_repair_prompt(
    last_id: int,
    decision: PhaseDecision,
    read: Callable[[str], bytes | None],
    changed: Sequence[str] = (),
) -> str:
    """`read` gives the current contents of the files the annotations point at and of the phase's
    `changed` files (shown in full, so the model's `edit`s match what is on disk now)."""
    files: list[FileContext] = []
    for path in dict.fromkeys([*(a.path for a in decision.annotations), *changed]):
        if len(files) >= MAX_FILES:
            break
        try:
            data = read(path)
        except AutopackError:  # a path the workspace refuses is simply not shown
            data = None
        if data is None or len(data) > MAX_FILE_BYTES or b"\x00" in data:
            continue
        files.append(FileContext(path=path, text=data.decode("utf-8", "replace")))
    return render("gate_repair.md.j2", last_id=last_id, decision=decision, files=files)
