"""What a maintainer's comment asks of Autopack (pure). A command comment starts with the command
prefix (the Action's `command_prefix` input, default `/autopack`), then either

- `approve <id>` / `deny <id>` (one line, the request id or a 6+ character prefix of it): decide that
  governance request, or
- anything else: a follow-up instruction for one more phase on the pull request's branch.

Comment text is untrusted: what a reader cannot see (HTML comments, invisible characters) is removed
before the prefix is looked for, so a hidden character cannot make a different command than the one
shown."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from autopack.core.governance.requests import COMMAND_PREFIX
from autopack.core.untrusted import sanitize

DEFAULT_PREFIX = COMMAND_PREFIX
MAX_INSTRUCTION_CHARS = 4_000
_DECISION = re.compile(r"(approve|deny)(?:\s+(\S+))?", re.IGNORECASE)


class GovernanceCommand(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["governance"] = "governance"
    approve: bool
    request_id: str  # may be empty: the reply then lists the pending requests


class FollowUpCommand(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["followup"] = "followup"
    instruction: str  # sanitized, never empty, at most MAX_INSTRUCTION_CHARS


class NotACommand(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["none"] = "none"
    reason: str


CommentCommand = GovernanceCommand | FollowUpCommand | NotACommand


def parse_command(body: str, prefix: str = DEFAULT_PREFIX) -> CommentCommand:
    """The command in a comment body. The prefix must open the comment and stand alone as a word
    (`/autopackage` is not `/autopack`)."""
    text = sanitize(body or "")
    prefix = prefix.strip()
    if not prefix or not text.startswith(prefix):
        return NotACommand(reason=f"the comment does not start with {prefix!r}")
    rest = text[len(prefix) :]
    if rest and not rest[0].isspace():
        return NotACommand(reason=f"the comment does not start with {prefix!r} and a space")
    rest = rest.strip()
    if not rest:
        return NotACommand(reason=f"nothing follows {prefix!r}: say what to change")
    decision = _DECISION.fullmatch(rest)
    if decision is not None:
        return GovernanceCommand(
            approve=decision.group(1).lower() == "approve", request_id=decision.group(2) or ""
        )
    return FollowUpCommand(instruction=instruction_text(rest))


def instruction_text(text: str) -> str:
    """A follow-up instruction as a phase may carry it: sanitized, at most MAX_INSTRUCTION_CHARS
    (the cut is said). Empty when nothing visible is left."""
    text = sanitize(text)
    if len(text) > MAX_INSTRUCTION_CHARS:
        text = text[:MAX_INSTRUCTION_CHARS].rstrip() + "\n(instruction cut at 4000 characters)"
    return text


__all__ = [
    "DEFAULT_PREFIX",
    "CommentCommand",
    "FollowUpCommand",
    "GovernanceCommand",
    "NotACommand",
    "instruction_text",
    "parse_command",
]
