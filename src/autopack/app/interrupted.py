"""A run cut short by a signal (Ctrl-C locally, "Cancel workflow" in the Action): the phase it
interrupted is settled so nothing half-done stays in the checkout or is committed later."""

from __future__ import annotations

from collections.abc import Callable

from autopack.core.state import PhaseStatus, RunState


def settle_interrupted(
    state: RunState, discard: Callable[[list[str]], None], reason: str
) -> list[str]:
    """The phases a cancel cut short (building or applying) become failed with `reason`; the files
    an applying phase had written are put back first (nothing of it is committed). Returns their
    ids. A failed phase is built again by the next run."""
    cut = []
    for record in state.phases:
        if record.status is PhaseStatus.applying and record.changed_paths:
            discard(record.changed_paths)
        if record.status in (PhaseStatus.building, PhaseStatus.applying):
            record.move(PhaseStatus.failed, reason)
            cut.append(record.id)
    return cut
