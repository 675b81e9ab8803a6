import pytest
from pydantic import BaseModel

from autopack.core.jsonl import LineProblem, parse_jsonl


class Rec(BaseModel):
    n: int
    tags: list[str] = []


class Bad(Exception):
    def __init__(self, problem: LineProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def test_blank_lines_are_skipped_and_line_numbers_count_them() -> None:
    assert parse_jsonl(['{"n": 1}', "", "  ", '{"n": 2}'], Rec, Bad) == [Rec(n=1), Rec(n=2)]
    with pytest.raises(Bad) as bad:
        parse_jsonl(['{"n": 1}', "", '{"n": 2, "tags": [3]}'], Rec, Bad)
    assert bad.value.problem == LineProblem(
        line=3, field="tags.0", message="Input should be a valid string", invalid_json=False
    )


def test_a_line_that_is_not_json_is_marked_so() -> None:
    with pytest.raises(Bad) as bad:
        parse_jsonl(["{oops"], Rec, Bad)
    p = bad.value.problem
    assert (p.line, p.field, p.invalid_json) == (1, "", True)
    assert p.message.startswith("Invalid JSON: ")
    assert p.json_detail == p.message.removeprefix("Invalid JSON: ") != ""


def test_a_missing_field_names_it() -> None:
    with pytest.raises(Bad) as bad:
        parse_jsonl(["{}"], Rec, Bad)
    assert (bad.value.problem.field, bad.value.problem.message) == ("n", "Field required")
