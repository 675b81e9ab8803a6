"""The run spec of an issue (pure): a fenced ```autopack block (YAML or JSON) in the body, else a
goal for the planner from the title and body (sanitized: issue text is untrusted)."""

from __future__ import annotations

import re

from autopack.core.spec import RunSpec, parse_spec_text
from autopack.core.untrusted import sanitize

_FENCE = re.compile(
    r"^(`{3,}|~{3,})[ \t]*autopack[ \t]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE
)


def spec_block(body: str) -> str | None:
    """The text of the first fenced `autopack` block, None if there is none."""
    match = _FENCE.search(body.replace("\r\n", "\n"))
    return match.group(2) if match else None


def spec_from_issue(number: int, body: str) -> RunSpec | None:
    """The spec in the issue's fenced block (SpecError naming the field if it is invalid). The block
    is issue text, so what a reader cannot see (HTML comments, invisible characters) is removed
    before it is parsed."""
    block = spec_block(body)
    if block is None:
        return None
    return parse_spec_text(sanitize(block) + "\n", source=f"the autopack block of issue #{number}")


def planning_goal(number: int, title: str, body: str) -> str:
    """What the planner is asked to plan: the issue's title and body, without hidden text."""
    text = sanitize(f"{title.strip()}\n\n{body}")
    return f"Resolve issue #{number}: {text}"
