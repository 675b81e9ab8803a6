"""Contract 1: the run spec. Pydantic models, YAML/JSON loading, and validation that reports every
problem with its field named."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from autopack.core.paths import check_repo_path
from autopack.errors import PathPolicyError, SpecError

PHASE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Complexity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class DeliverableAction(StrEnum):
    create = "create"
    modify = "modify"
    delete = "delete"
    rename = "rename"


class Deliverable(_Strict):
    path: str = Field(description="Repo-relative path of the file")
    action: DeliverableAction = DeliverableAction.modify
    description: str = ""
    old_path: str | None = Field(default=None, description="Previous path, for action: rename")

    @field_validator("path", "old_path")
    @classmethod
    def _repo_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_repo_path(value)
        except PathPolicyError as exc:
            raise ValueError(str(exc)) from None


def _test_selector(value: str) -> str:
    """A validation test (a file, a folder or a pytest node id `file::test[param]`) names a place
    inside the repo, like a deliverable; only the part before the first `::` is a path. Kept as
    given (pytest matches it as written)."""
    try:
        check_repo_path(value.split("::", 1)[0], allow_folder=True)
    except PathPolicyError as exc:
        raise ValueError(str(exc)) from None
    return value


ValidationSelector = Annotated[str, AfterValidator(_test_selector)]


class Budget(_Strict):
    max_cost_usd: float | None = Field(default=None, gt=0)


class Phase(_Strict):
    id: str = Field(pattern=PHASE_ID_PATTERN, max_length=64)
    title: str = Field(min_length=1)
    goal: str = ""
    complexity: Complexity | None = None
    category: str | None = Field(
        default=None, description="backend | frontend | tests | docs | ..."
    )
    deliverables: tuple[Deliverable, ...] = ()
    depends_on: tuple[str, ...] = ()
    validation_tests: tuple[ValidationSelector, ...] = ()
    acceptance: tuple[str, ...] = ()
    allow_no_change: bool = Field(
        default=False, description="Let the phase succeed without changing any file"
    )


class RunSpec(_Strict):
    goal: str = Field(min_length=1)
    model: str | None = None
    budget: Budget = Budget()
    protected_paths: tuple[str, ...] = ()
    instructions: str = Field(
        default="",
        max_length=20_000,
        description="Extra guidance for the model, shown with the repo's AGENTS.md (bounded)",
    )
    context_budget: int | None = Field(
        default=None,
        ge=0,
        description="Tokens of repo context per phase (map, related files, instructions); "
        "default: from the model's context window and the phase's estimated output; 0: off",
    )
    phases: tuple[Phase, ...] = ()

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _loc(loc)
        if err["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key")
        elif err["type"] == "missing":
            problems.append(f"{where}: required field is missing")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg}")
    return problems


class _RawNode(BaseModel):
    id: str
    depends_on: tuple[str, ...] = ()


def _raw_nodes(data: dict[str, Any]) -> list[_RawNode]:
    """The (id, depends_on) of each phase in raw data, so graph problems are reported even when
    other fields fail validation."""
    phases = data.get("phases")
    nodes = []
    for raw in phases if isinstance(phases, list) else []:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        deps = raw.get("depends_on") or []
        deps = [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else []
        nodes.append(_RawNode(id=raw["id"], depends_on=tuple(deps)))
    return nodes


def _graph_problems(nodes: list[_RawNode]) -> list[str]:
    from autopack.core.dag import find_cycle

    problems = []
    seen: dict[str, int] = {}
    for i, phase in enumerate(nodes):
        if phase.id in seen:
            problems.append(
                f"phases[{i}].id: duplicate phase id {phase.id!r} (first at phases[{seen[phase.id]}])"
            )
        else:
            seen[phase.id] = i
    for i, phase in enumerate(nodes):
        for j, dep in enumerate(phase.depends_on):
            if dep not in seen:
                problems.append(f"phases[{i}].depends_on[{j}]: unknown phase {dep!r}")
            elif dep == phase.id:
                problems.append(f"phases[{i}].depends_on[{j}]: phase {dep!r} depends on itself")
    # Self-dependencies are reported above; look for longer cycles alongside the other problems
    # (the dependencies of duplicate ids merged, so a duplicate cannot hide a cycle).
    merged: dict[str, list[str]] = {}
    for n in nodes:
        merged.setdefault(n.id, []).extend(d for d in n.depends_on if d != n.id)
    cycle = find_cycle([_RawNode(id=k, depends_on=tuple(v)) for k, v in merged.items()])
    if cycle:
        first = next(i for i, n in enumerate(nodes) if n.id == cycle[0])
        problems.append(f"phases[{first}].depends_on: dependency cycle " + " -> ".join(cycle))
    return problems


def parse_spec(data: Any, source: str | None = None) -> RunSpec:
    """Validate already-parsed data (a dict) into a RunSpec; raise SpecError listing every problem."""
    if not isinstance(data, dict):
        raise SpecError([f"(root): expected a mapping, got {type(data).__name__}"], source)
    problems = []
    spec: RunSpec | None = None
    try:
        spec = RunSpec.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
    phases = data.get("phases", ())
    if isinstance(phases, list | tuple) and not phases:
        # Only parsed specs: code may build a RunSpec without phases (the Action's resume does).
        problems.append("phases: a run needs at least one phase")
    problems += _graph_problems(_raw_nodes(data))
    if problems or spec is None:
        raise SpecError(problems, source)
    return spec


class DuplicateKeyError(ValueError):
    """A mapping gives the same key twice (the parsers would keep the last value silently)."""

    def __init__(self, key: object, line: int | None = None) -> None:
        self.key, self.line = key, line
        at = f" (line {line})" if line is not None else ""
        super().__init__(
            f"key {key!r} is given twice in one mapping{at}; only one value would be used"
        )


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a mapping key given twice (merge keys `<<` may still be
    overridden, as YAML intends)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                fresh = key not in seen
            except TypeError:  # unhashable: the base class reports it
                continue
            if not fresh:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object_pairs_hook refusing a key given twice."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def parse_spec_text(text: str, source: str | None = None, fmt: str | None = None) -> RunSpec:
    """Parse YAML or JSON text (YAML is a superset; `fmt='json'` forces JSON)."""
    kind = "JSON" if fmt == "json" else "YAML"
    try:
        if fmt == "json":
            data = json.loads(text, object_pairs_hook=_unique_pairs)
        else:
            data = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise SpecError([f"(file): {exc}"], source) from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SpecError([f"(file): not valid {kind}: {exc}"], source) from None
    except RecursionError:  # the parsers recurse once per level of nesting
        raise SpecError([f"(file): the {kind} is nested too deeply to read"], source) from None
    try:
        return parse_spec(data, source)
    except RecursionError:
        raise SpecError(["(file): a value is nested too deeply to check"], source) from None


def phase_digest(spec: RunSpec, phase: Phase) -> str:
    """Identifies what a phase was asked to do (the run's goal and the phase as specified): kept
    in its commit's trailer, so a re-run tells its own committed phases from another spec's
    phases that happen to share an id."""
    data = {"goal": spec.goal, "phase": phase.model_dump(mode="json")}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


SPEC_TRAILER = "Autopack-Spec"


def phase_trailers(spec: RunSpec, phase: Phase, ops: int, run_id: str) -> dict[str, str]:
    """The trailers of a phase's commit (besides Autopack-Phase): what a re-run reads back."""
    return {
        "Autopack-Ops": str(ops),
        "Autopack-Run": run_id,
        SPEC_TRAILER: phase_digest(spec, phase),
    }


def spec_conflict(
    spec: RunSpec,
    done: dict[str, str],
    trailers_of: Callable[[str], dict[str, str]],
    trailer: str,
) -> str | None:
    """Why a branch's committed phases are not this spec's, or None. `done` maps phase ids to
    commits; a commit whose `trailer` digest differs holds a phase of another spec with the same
    id (two specs both named spec.yaml give the same run id)."""
    for phase in spec.phases:
        sha = done.get(phase.id)
        theirs = trailers_of(sha).get(trailer) if sha else None
        if sha and theirs is not None and theirs != phase_digest(spec, phase):
            return (
                f"holds phase {phase.id!r} of a different run spec (commit {sha[:10]}); give this "
                "run another branch with --run-id NAME (or delete the branch to start over)"
            )
    return None


def json_schema() -> dict[str, Any]:
    schema = RunSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Autopack run spec"
    return schema
