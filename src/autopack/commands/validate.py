"""`autopack validate SPEC`: report every problem of a run spec, each with its field."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from autopack.adapters.spec_file import load_spec
from autopack.errors import SpecError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("validate", help="check a run spec (YAML or JSON)")
    p.add_argument("spec", help="path of the run spec")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.spec)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{args.spec}: valid ({len(spec.phases)} phase(s))")
    return 0
