"""A follow-up (pure): one more phase on an Autopack pull request's branch, asked by a maintainer's
command comment on the PR (or `autopack followup` locally).

The phase has no deliverables (the model may change any file; the path policy, governance holds and
gates apply as to any phase). Its goal is the instruction, sanitized and fenced like issue text
(core/untrusted.py). Its prompt context, rendered here, is added to the phase prompt: the PR's
changes so far (the diff against the base, bounded) and, for a review comment, the commented file
with the line marked and the diff hunk the comment was made on."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict

from autopack.core.render.prompts import render
from autopack.core.spec import Phase
from autopack.core.untrusted import delimit, sanitize

MAX_DIFF_CHARS = 30_000
MAX_HUNK_CHARS = 3_000
WHOLE_FILE_LINES = 400  # a longer file is shown as a window around the commented line
WINDOW_LINES = 60
MAX_FILE_BYTES = 200_000


class Anchor(BaseModel):
    """Where a review comment points: a file of the PR, a line of it (on the PR's side), and the
    diff hunk GitHub shows above the comment."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int | None = None
    diff_hunk: str = ""


def followup_phase_id(key: str) -> str:
    """`followup-<key>` with the key reduced to the phase id alphabet ([a-z0-9-])."""
    slug = re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")[:48] or "0"
    return f"followup-{slug}"


def requester_name(asked_by: str) -> str:
    """`asked_by` made safe for a commit subject: letters, digits, `_.[]-` and single spaces
    (every run of whitespace, newlines included, becomes one space); at most 40 characters."""
    kept = re.sub(r"[^\w\s.\[\]-]+", "", unicodedata.normalize("NFC", asked_by))
    return " ".join(kept.split())[:40].strip() or "a maintainer"


def followup_phase(phase_id: str, instruction: str, asked_by: str) -> Phase:
    """The phase: its goal is the fenced instruction; its title names who asked (never the
    instruction itself, which is untrusted text and would reach commit subjects and comments)."""
    who = requester_name(asked_by)
    return Phase(
        id=phase_id,
        title=f"Follow-up asked by {who}",
        goal="Make the change this reviewer asked for on the pull request:\n"
        + delimit(instruction),
    )


def bounded(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut at `limit` characters (at a line end when there is one); whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    return cut[: cut.rfind("\n") + 1] or cut, True


def mark_line(text: str, line: int | None) -> str:
    """`text` with a line-number gutter and the line `line` (1-based) marked `>>`; a window around
    that line when the file is long."""
    lines = text.splitlines()
    first, last = 1, len(lines)
    if len(lines) > WHOLE_FILE_LINES:
        center = min(max(line or 1, 1), len(lines))
        first = max(1, center - WINDOW_LINES // 2)
        last = min(len(lines), first + WINDOW_LINES - 1)
    width = len(str(last))
    out = []
    for n in range(first, last + 1):
        mark = ">>" if n == line else "  "
        out.append(f"{mark}{n:>{width}} | {lines[n - 1]}")
    if first > 1:
        out.insert(0, f"  {'':>{width}} | … ({first - 1} lines above)")
    if last < len(lines):
        out.append(f"  {'':>{width}} | … ({len(lines) - last} lines below)")
    return "\n".join(out)


def followup_context(pr_diff: str | None, anchor: Anchor | None, anchored: bytes | None) -> str:
    """The follow-up phase's extra prompt text. `pr_diff` None: the diff could not be read;
    `anchored`: the anchored file's bytes on the branch (None: it does not exist there)."""
    diff, diff_cut = bounded(pr_diff or "", MAX_DIFF_CHARS)
    text = None
    if anchored is not None and len(anchored) <= MAX_FILE_BYTES and b"\x00" not in anchored:
        text = anchored.decode("utf-8", "replace")
    hunk = bounded(sanitize(anchor.diff_hunk), MAX_HUNK_CHARS)[0] if anchor else ""
    return render(
        "followup_context.md.j2",
        diff=diff.rstrip("\n"),
        diff_known=pr_diff is not None,
        diff_cut=diff_cut,
        limit=MAX_DIFF_CHARS,
        anchor=anchor,
        marked=mark_line(text, anchor.line) if text is not None and anchor else None,
        too_big=anchored is not None and text is None,
        hunk=hunk.rstrip("\n"),
    )


def inert(text: str, limit: int = 300) -> str:
    """Untrusted text for one line of a comment: sanitized, on one line, cut, unable to open HTML
    or a comment marker, and not mentioning anyone."""
    flat = " ".join(sanitize(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("<", "&lt;").replace("@", "@\u2060")


__all__ = [
    "Anchor",
    "bounded",
    "followup_context",
    "followup_phase",
    "followup_phase_id",
    "inert",
    "mark_line",
]
