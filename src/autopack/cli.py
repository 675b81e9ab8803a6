"""The `autopack` command line. Each subcommand lives in `autopack.commands.<module>` and exposes
`register(subparsers)`, which adds its parser and sets `func(args) -> int` on it. Only the module of
the subcommand that runs is imported (importing all of them cost most of the start-up time)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from autopack import __version__
from autopack.errors import AutopackError

# (name, module under autopack.commands, help), in the order --help shows them. Only the module of
# the subcommand that runs is imported; the others appear in --help by their help line alone.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("demo", "demo", "run the engine offline on a generated repo (no API key needed)"),
    ("run", "run", "run a spec against a local checkout"),
    ("validate", "validate", "check a run spec (YAML or JSON)"),
    ("plan", "plan", "show the phase order and waves"),
    ("schema", "schema", "print the run spec's JSON Schema"),
    (
        "context",
        "context",
        "print a phase's first request (system prompt, -----, phase prompt) offline",
    ),
    ("estimate", "estimate", "estimate output tokens and plan max_tokens for phase records"),
    ("bench", "bench", "run a benchmark on recorded cases"),
    ("action", "action", "run as the GitHub Action (reads the environment GitHub sets)"),
    ("approve", "governance", "approve a held phase's governance request"),
    ("deny", "governance", "deny a held phase's governance request"),
    ("resume", "governance", "continue a run after governance decisions"),
)


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (its first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; the full parser of `command` only (None: every subcommand in full)."""
    parser = argparse.ArgumentParser(
        prog="autopack",
        description="Turn an issue into a review-ready pull request with a phased LLM executor.",
    )
    parser.add_argument("--version", action="version", version=f"autopack {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((m for n, m, _ in COMMANDS if n == command), None)
    registered: set[str] = set()
    for name, module, help_text in COMMANDS:
        if command is None or module == chosen:
            if module not in registered:
                importlib.import_module(f"autopack.commands.{module}").register(sub)
                registered.add(module)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    name = command_of(args_list)
    parser = build_parser(name if any(name == n for n, _, _ in COMMANDS) else "")
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code: int = func(args)
    except AutopackError as exc:
        print(f"autopack: error: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        print(f"autopack: error: invalid setting: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autopack: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`autopack ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
