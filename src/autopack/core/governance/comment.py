"""The governance request comment (rendered from the governance_comment.md.j2 template), with the
label names that decide it on GitHub. Model-written text in it is made inert."""

from __future__ import annotations

from autopack.core.governance.requests import DecisionLabels, GovernanceRequest
from autopack.core.render.prompts import render


def _inert(text: str) -> str:
    """Model-written text cannot open or close an HTML comment (forge markers live in those) or
    end the diff's code fence."""
    return (
        text.replace("<!--", "<!\u200b--").replace("-->", "--\u200b>").replace("```", "`\u200b``")
    )


DEFAULT_LABELS = DecisionLabels()


def render_request_comment(
    request: GovernanceRequest, labels: DecisionLabels = DEFAULT_LABELS
) -> str:
    """The request's comment; `labels` are the label names that decide it on GitHub."""
    return render(
        "governance_comment.md.j2",
        request=request,
        justification=_inert(request.justification),
        diff=_inert(request.diff_preview),
        stale=_inert(request.stale),
        approve_label=labels.approve,
        deny_label=labels.deny,
        command=labels.command,
    )


def render_pending(
    requests: list[GovernanceRequest], labels: DecisionLabels = DEFAULT_LABELS
) -> str:
    """One line per pending request: id, phase, paths, risk and the comments that decide it."""
    return render("pending_requests.md.j2", requests=requests, command=labels.command)


__all__ = ["DEFAULT_LABELS", "render_pending", "render_request_comment"]
