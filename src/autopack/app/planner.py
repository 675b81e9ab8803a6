"""The planner: a goal (an issue's plain text) and the repo (its instructions and the ranked repo
map of the context engine; else its file list) -> a RunSpec, in one model call. The answer is validated by the run-spec models; on problems (not JSON, invalid fields, unknown
files) the model gets one repair turn naming each problem, then a SpecError names what is still
wrong. Pure apart from the ModelClient port."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from autopack.core.budget.estimator import EstimatorParams
from autopack.core.budget.split import split_large_phases
from autopack.core.build import RequestRecord
from autopack.core.context.engine import SharedContext
from autopack.core.modeltable import ModelInfo
from autopack.core.paths import check_repo_path
from autopack.core.render.prompts import render
from autopack.core.spec import DeliverableAction, RunSpec, parse_spec
from autopack.core.untrusted import delimit, note, sanitize
from autopack.errors import PathPolicyError, SpecError
from autopack.ports import Message, ModelClient, ModelRequest, ModelResponse

PLAN_SYSTEM = (
    "You are Autopack's planner. You split a change to a git repository into small, ordered phases "
    "and answer with one JSON object (an Autopack run spec) and nothing else."
)
MAX_LISTED_FILES = 400
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n```\s*$", re.DOTALL)


class RepoFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    size: int = Field(ge=0)


class PlanSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = Field(default=8_000, gt=0)
    max_phases: int = Field(default=8, ge=1)
    repair_turns: int = Field(default=1, ge=0)


class PlanOutcome(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: RunSpec
    requests: list[RequestRecord] = Field(default_factory=list)
    repairs: int = 0


def plan_prompt(
    goal: str,
    files: list[RepoFile],
    protected_paths: list[str],
    max_phases: int,
    context: SharedContext | None = None,
) -> str:
    """With `context` (instructions and a map ranked by closeness to the goal) the map replaces
    the list of paths and sizes."""
    listed = sorted(files, key=lambda f: f.path)[:MAX_LISTED_FILES]
    return render(
        "plan.md.j2",
        goal=delimit(goal),
        untrusted_note=note(),
        files=listed,
        omitted=max(0, len(files) - len(listed)),
        context=context if context is not None and context.repo_map else None,
        total=len(files),
        protected_paths=protected_paths,
        max_phases=max_phases,
    )


def _json_of(text: str) -> Any:
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    return json.loads(body)


def _repo_path(path: str) -> str | None:
    """`path` as the spec reads it (`./a.py` is `a.py`); None when the spec refuses it (the spec's
    own check names the problem)."""
    try:
        return check_repo_path(path)
    except PathPolicyError:
        return None


def _file_problems(data: Any, known: set[str]) -> list[str]:
    """Deliverables that must name an existing file but do not (checked on the raw answer, so
    they are reported together with any schema problems)."""
    problems: list[str] = []
    phases = data.get("phases") if isinstance(data, dict) else None
    for i, phase in enumerate(phases if isinstance(phases, list) else []):
        items = phase.get("deliverables") if isinstance(phase, dict) else None
        for j, d in enumerate(items if isinstance(items, list) else []):
            if not isinstance(d, dict) or not isinstance(d.get("path"), str):
                continue
            action = d.get("action", DeliverableAction.modify.value)
            where = f"phases[{i}].deliverables[{j}]"
            if action == DeliverableAction.rename.value:
                old = d.get("old_path")
                if not isinstance(old, str):
                    problems.append(f"{where}.old_path: required for action rename")
                elif _repo_path(old) not in known:
                    problems.append(f"{where}.old_path: {old!r} is not in the repository")
            elif action != DeliverableAction.create.value and _repo_path(d["path"]) not in known:
                problems.append(
                    f"{where}.path: {d['path']!r} is not in the repository (action {action})"
                )
    return problems


def check_plan(
    text: str, response: ModelResponse, goal: str, files: list[RepoFile], max_phases: int
) -> tuple[RunSpec | None, list[str]]:
    """The spec in a planner answer, or the problems that make it unusable (each naming a field)."""
    if response.truncated:
        return None, [
            f"the answer was cut off ({response.stop_reason}); give a shorter plan "
            "(fewer phases, shorter descriptions)"
        ]
    try:
        data = _json_of(text)
    except json.JSONDecodeError as exc:
        return None, [
            f"(answer): not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ]
    if isinstance(data, dict):
        # The model, the budgets and the trusted instructions are the operator's choice, never
        # the planner's (it read untrusted issue text: its `instructions` would reach every
        # phase's system prompt as maintainers' guidance).
        for key in ("model", "budget", "context_budget", "instructions"):
            data.pop(key, None)
        # The run's goal stays the text it was given (sanitised), not the planner's rewording.
        data["goal"] = sanitize(goal) or data.get("goal") or "(goal)"
    problems = _file_problems(data, {f.path for f in files})
    try:
        spec = parse_spec(data, source="planner")
    except SpecError as exc:
        return None, exc.problems + problems
    if not spec.phases:
        problems.append("phases: the plan has no phases")
    if len(spec.phases) > max_phases:
        problems.append(f"phases: {len(spec.phases)} phases, at most {max_phases} allowed")
    return (None, problems) if problems else (spec, [])


def plan_spec(
    client: ModelClient,
    *,
    model: str,
    goal: str,
    files: list[RepoFile],
    protected_paths: list[str] | None = None,
    settings: PlanSettings | None = None,
    context: SharedContext | None = None,
    sizing: tuple[ModelInfo, EstimatorParams] | None = None,
) -> PlanOutcome:
    """Ask the model for a run spec for `goal`; one repair turn; SpecError if still invalid. With
    `sizing`, a phase too large for one batch is split into consecutive phases (core/budget/split)."""
    cfg = settings or PlanSettings()
    prompt = plan_prompt(goal, files, list(protected_paths or []), cfg.max_phases, context)
    messages = [Message(role="user", content=prompt)]
    records: list[RequestRecord] = []
    repairs = 0
    while True:
        request = ModelRequest(
            model=model,
            system=PLAN_SYSTEM,
            messages=tuple(messages),
            max_tokens=cfg.max_tokens,
            purpose="plan",
        )
        response = client.stream(request, lambda _chunk: None)
        records.append(
            RequestRecord(
                purpose="plan" if repairs == 0 else "repair",
                max_tokens=cfg.max_tokens,
                stop_reason=response.stop_reason,
                usage=response.usage,
                ops_received=0,
                malformed_lines=0,
                elapsed_s=response.elapsed_s,
            )
        )
        spec, problems = check_plan(response.text, response, goal, files, cfg.max_phases)
        if spec is not None:
            if sizing is not None:
                size_of = {f.path: f.size for f in files}
                spec = split_large_phases(spec, size_of.get, *sizing)
            return PlanOutcome(spec=spec, requests=records, repairs=repairs)
        if repairs >= cfg.repair_turns:
            raise SpecError(
                problems,
                source=f"the planner's run spec (after {repairs} repair turn(s))",
            )
        repairs += 1
        messages += [
            Message(role="assistant", content=response.text.strip() or "(no output)"),
            Message(role="user", content=render("plan_repair.md.j2", problems=problems)),
        ]
