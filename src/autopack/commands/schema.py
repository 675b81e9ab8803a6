"""`autopack schema`: print the run spec's JSON Schema."""

from __future__ import annotations

import argparse
import json
from typing import Any

from autopack.core.spec import json_schema


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("schema", help="print the run spec's JSON Schema")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0
