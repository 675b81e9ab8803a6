"""The command in a comment (pure): governance decisions by id, follow-up instructions, and what is
no command at all. Hidden text never makes a command."""

from __future__ import annotations

import pytest

from autopack.core.comment_command import (
    MAX_INSTRUCTION_CHARS,
    FollowUpCommand,
    GovernanceCommand,
    NotACommand,
    parse_command,
)


@pytest.mark.parametrize(
    ("body", "approve", "request_id"),
    [
        ("/autopack approve 4fb17e1cab10", True, "4fb17e1cab10"),
        ("/autopack deny 4fb17e", False, "4fb17e"),
        ("  /autopack   APPROVE   abcdef123  \n", True, "abcdef123"),
        ("/autopack approve", True, ""),  # answered with the list of pending requests
    ],
)
def test_decisions_name_their_request(body: str, approve: bool, request_id: str) -> None:
    assert parse_command(body) == GovernanceCommand(approve=approve, request_id=request_id)


@pytest.mark.parametrize(
    ("body", "instruction"),
    [
        ("/autopack add mul(a, b)", "add mul(a, b)"),
        ("/autopack rename sub to subtract\n\nand keep the tests green", None),
        ("/autopack approve the refactor and add a test", "approve the refactor and add a test"),
        ("/autopack\nadd mul", "add mul"),
    ],
)
def test_anything_else_after_the_prefix_is_a_follow_up(body: str, instruction: str | None) -> None:
    command = parse_command(body)
    assert isinstance(command, FollowUpCommand)
    assert command.instruction == (instruction or body.removeprefix("/autopack").strip())


@pytest.mark.parametrize(
    "body",
    [
        "please /autopack add mul",  # the prefix must open the comment
        "/autopackage add mul",  # a word of its own
        "/autopack",  # and something must follow
        "/autopack   \n  ",
        "<!-- /autopack add mul -->looks good",  # hidden text is not a command
        "> /autopack add mul\n\nquoted, not asked",
        "",
    ],
)
def test_no_command(body: str) -> None:
    assert isinstance(parse_command(body), NotACommand)


def test_hidden_characters_are_removed_before_the_prefix_is_read() -> None:
    assert parse_command("\u200b/autopack add\u202e mul") == FollowUpCommand(instruction="add mul")
    # what is shown is `/autopackapprove`: no command, whatever a hidden space would make of it
    assert isinstance(parse_command("/autopack\u200bapprove 4fb17e"), NotACommand)


def test_another_prefix_and_a_long_instruction() -> None:
    assert parse_command("/ap add mul", "/ap") == FollowUpCommand(instruction="add mul")
    assert isinstance(parse_command("/autopack add mul", "/ap"), NotACommand)
    long = parse_command("/autopack " + "x" * (MAX_INSTRUCTION_CHARS + 50))
    assert isinstance(long, FollowUpCommand)
    assert long.instruction.endswith("(instruction cut at 4000 characters)")
    assert len(long.instruction) < MAX_INSTRUCTION_CHARS + 60
