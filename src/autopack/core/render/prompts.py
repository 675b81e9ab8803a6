"""Prompt rendering from the jinja2 templates in `templates.py` (pure: no files are read)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import jinja2
from pydantic import BaseModel

from autopack.core.context.engine import Block
from autopack.core.context.instructions import Instruction
from autopack.core.render.templates import TEMPLATES
from autopack.core.spec import Phase
from autopack.core.untrusted import delimit, note, sanitize

CHUNK_LINES = 120


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        autoescape=False,  # Markdown and plain text, never HTML
    )
    env.filters["untrusted"] = sanitize  # text that may come from an issue
    return env


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)


class FileContext(BaseModel):
    path: str
    text: str


def system_prompt(instructions: Sequence[Instruction] = (), repo_map: str = "") -> str:
    """The builder's rules, then what every phase of a run shares (cached once per run): the
    repo instructions and the repo map."""
    return render(
        "system.md.j2", chunk_lines=CHUNK_LINES, instructions=instructions, repo_map=repo_map
    )


def phase_prompt(
    run_goal: str,
    phase: Phase,
    files: list[FileContext],
    protected_paths: list[str],
    output_format: str | None = None,
    related: Sequence[Block] = (),
    extra_context: str = "",
) -> str:
    """`output_format` ("edit" or "whole", from the budget policy) steers the shape of the ops;
    `related` are the context engine's files for the phase; `extra_context` (Markdown) is added
    after them (a follow-up's PR diff and anchored file)."""
    return render(
        "phase.md.j2",
        output_format=output_format,
        extra_context=extra_context.strip(),
        run_goal=delimit(run_goal),
        untrusted_note=note(),
        phase=phase,
        files=files,
        related=related,
        protected_paths=protected_paths,
    )


def continue_prompt(last_id: int) -> str:
    return render("continue.md.j2", last_id=last_id)


def repair_prompt(last_id: int, rejected: list[str]) -> str:
    return render("repair.md.j2", last_id=last_id, rejected=rejected)


def batch_note(
    index: int,
    count: int,
    paths: list[str],
    gaps: list[tuple[str, str, str]] | None = None,
    ordered: bool = False,
) -> str:
    """What the phase prompt (batch 0) or a later user turn says about batch `index` of `count`:
    the files to write now, and names earlier batches import that are still undefined."""
    return render(
        "batch.md.j2", index=index, count=count, paths=paths, gaps=gaps or [], ordered=ordered
    )
