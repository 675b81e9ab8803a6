"""The `autopack` command line. Each subcommand lives in `autopack.commands.<name>` and exposes
`register(subparsers)`, which adds its parser and sets `func(args) -> int` on it."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from autopack import __version__
from autopack.errors import AutopackError

# Order is the order shown in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "run",
    "validate",
    "plan",
    "schema",
    "estimate",
    "bench",
    "action",
    "governance",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autopack",
        description="Turn an issue into a review-ready pull request with a phased LLM executor.",
    )
    parser.add_argument("--version", action="version", version=f"autopack {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"autopack.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
