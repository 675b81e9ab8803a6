"""Contract 1: run spec loading from YAML and JSON, the JSON Schema, problems named by field."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from autopack.adapters.spec_file import load_spec
from autopack.core.spec import (
    Complexity,
    DeliverableAction,
    RunSpec,
    json_schema,
    parse_spec,
    parse_spec_text,
)
from autopack.errors import SpecError

SPEC = {
    "goal": "Add retry support to the HTTP client",
    "model": "claude-sonnet-4-5",
    "budget": {"max_cost_usd": 5.0},
    "protected_paths": ["src/core/**"],
    "phases": [
        {
            "id": "retry-types",
            "title": "Retry config types",
            "goal": "RetryConfig dataclass",
            "complexity": "medium",
            "category": "backend",
            "deliverables": [
                {"path": "src/pkg/retry.py", "action": "create", "description": "RetryConfig"},
                {"path": "./src/pkg/client.py", "action": "modify"},
            ],
            "validation_tests": ["tests/test_retry.py"],
            "acceptance": ["RetryConfig exists"],
        },
        {"id": "retry-use", "title": "Use it", "depends_on": ["retry-types"]},
    ],
}


def _check(spec: RunSpec) -> None:
    assert spec.goal == SPEC["goal"]
    assert spec.budget.max_cost_usd == 5.0
    assert spec.protected_paths == ("src/core/**",)
    first = spec.phase("retry-types")
    assert first.complexity is Complexity.medium
    assert first.deliverables[0].action is DeliverableAction.create
    assert first.deliverables[1].path == "src/pkg/client.py"  # normalised
    assert spec.phase("retry-use").depends_on == ("retry-types",)
    with pytest.raises(KeyError):
        spec.phase("nope")


def test_load_yaml(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    _check(load_spec(path))


def test_load_json(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC), encoding="utf-8")
    _check(load_spec(path))


def test_yaml_and_json_give_the_same_spec(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(SPEC), encoding="utf-8")
    assert load_spec(tmp_path / "a.yml") == load_spec(tmp_path / "b.json")


def test_json_file_with_yaml_syntax_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text("goal: x\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"\(file\): not valid JSON"):
        load_spec(path)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("goal: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value) and "not valid YAML" in str(info.value)


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "absent.yaml")
    with pytest.raises(SpecError, match=r"\(root\): expected a mapping, got list"):
        parse_spec_text("- a\n- b\n")


def test_not_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"goal: \xff\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def test_wrong_types_name_their_field() -> None:
    text = "goal: g\nbudget: {max_cost_usd: -1}\nphases:\n  - {id: a, title: A, complexity: huge}\n"
    with pytest.raises(SpecError) as info:
        parse_spec_text(text)
    problems = info.value.problems
    assert any(p.startswith("budget.max_cost_usd:") for p in problems), problems
    assert any(p.startswith("phases[0].complexity:") for p in problems), problems


def test_schema_is_valid_json_schema_and_has_the_fields() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) >= {"goal", "model", "budget", "protected_paths", "phases"}
    phase = schema["$defs"]["Phase"]["properties"]
    assert set(phase) >= {
        "id",
        "title",
        "goal",
        "complexity",
        "category",
        "deliverables",
        "depends_on",
        "validation_tests",
        "acceptance",
    }
    assert schema["additionalProperties"] is False
    # The schema accepts the sample spec and rejects an unknown key, like the models do.
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(SPEC)) == []
    assert list(validator.iter_errors({**SPEC, "colour": "red"}))


def _one_phase(**extra: object) -> dict[str, object]:
    return {"goal": "g", "phases": [{"id": "a", "title": "A", **extra}]}


def test_validation_tests_stay_inside_the_repo() -> None:
    tests = ["tests/ok.py", "../x.py", "/etc/passwd", "../up.py::test_x", ".git/hooks/t.py::t"]
    with pytest.raises(SpecError) as info:
        parse_spec(_one_phase(validation_tests=tests))
    assert info.value.problems == [
        "phases[0].validation_tests[1]: path '../x.py' contains '..'; paths must stay inside "
        "the repo",
        "phases[0].validation_tests[2]: path '/etc/passwd' is absolute; paths are relative to "
        "the repo root",
        "phases[0].validation_tests[3]: path '../up.py' contains '..'; paths must stay inside "
        "the repo",
        "phases[0].validation_tests[4]: path '.git/hooks/t.py' is inside .git/; Autopack never "
        "writes there",
    ]


def test_validation_tests_accept_node_ids_and_folders_as_given() -> None:
    tests = (
        "tests/test_a.py",
        "tests/test_a.py::test_x[param]",
        "tests/test_a.py::TestC::test_x[a/../b]",
        "tests/",
        "tests/unit",
    )
    assert parse_spec(_one_phase(validation_tests=list(tests))).phases[0].validation_tests == tests


@pytest.mark.parametrize("data", [{"goal": "g"}, {"goal": "g", "phases": []}])
def test_a_spec_without_phases_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    assert info.value.problems == ["phases: a run needs at least one phase"]


def test_no_phases_is_reported_with_the_other_problems() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec({"phases": [], "colour": "red"})
    assert sorted(info.value.problems) == [
        "colour: unknown key",
        "goal: required field is missing",
        "phases: a run needs at least one phase",
    ]


def test_a_run_spec_built_in_code_may_have_no_phases() -> None:
    # The Action builds one (the goal only) to load the governance policy on a resume.
    assert RunSpec(goal="(resume)").phases == ()


@pytest.mark.parametrize(
    ("text", "fmt", "named"),
    [
        (
            "goal: g\nphases: []\ngoal: h\n",
            None,
            "key 'goal' is given twice in one mapping (line 3)",
        ),
        ("goal: g\nphases:\n  - {id: a, title: A, id: b}\n", None, "key 'id' is given twice"),
        ('{"goal": "g", "phases": [], "goal": "h"}', "json", "key 'goal' is given twice"),
    ],
)
def test_a_key_given_twice_is_an_error(text: str, fmt: str | None, named: str) -> None:
    with pytest.raises(
        SpecError, match=r"\(file\): " + named.replace("(", r"\(").replace(")", r"\)")
    ):
        parse_spec_text(text, fmt=fmt)


def test_a_merge_key_may_be_overridden() -> None:
    text = "goal: g\nphases:\n  - <<: {id: x, title: T}\n    id: a\n"
    assert [p.id for p in parse_spec_text(text).phases] == ["a"]
