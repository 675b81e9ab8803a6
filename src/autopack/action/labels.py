"""The labels Autopack reacts to (the trigger, approve and deny inputs), created with a colour and
a description when the repository lacks them, so a first run needs no setup by hand. Creating
labels needs `issues: write` (the example workflow grants it); when the token may not, the run goes
on and says which labels to add."""

from __future__ import annotations

from autopack.action.inputs import ActionInputs
from autopack.action.workflow_commands import WorkflowLog
from autopack.adapters.github_forge import GitHubForge, LabelSpec
from autopack.errors import AutopackError


def wanted_labels(inputs: ActionInputs) -> list[LabelSpec]:
    return [
        LabelSpec(
            name=inputs.trigger_label,
            color="5319e7",
            description="Autopack: turn this issue into a pull request",
        ),
        LabelSpec(
            name=inputs.approve_label,
            color="0e8a16",
            description="Autopack: approve the pending governance request",
        ),
        LabelSpec(
            name=inputs.deny_label,
            color="b60205",
            description="Autopack: deny the pending governance request",
        ),
    ]


def ensure_labels(forge: GitHubForge, inputs: ActionInputs, log: WorkflowLog) -> list[str]:
    """Create the missing labels; returns their names. Never stops the run."""
    wanted = wanted_labels(inputs)
    try:
        created = forge.create_missing_labels(wanted)
    except AutopackError as exc:
        names = ", ".join(repr(w.name) for w in wanted)
        log.warning(f"could not check or create the labels {names}: {exc}; add them by hand")
        return []
    for name in created:
        log.info(f"created the label {name!r} (it did not exist)")
    return created


__all__ = ["ensure_labels", "wanted_labels"]
