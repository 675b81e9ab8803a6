"""The README's tables of the action's inputs and outputs, generated from action.yml (so they never
drift): they sit between `<!-- action-inputs:start -->` / `<!-- action-inputs:end -->` and the
matching `action-outputs` markers.

    python3 scripts/action_docs.py          # rewrite the tables in README.md
    python3 scripts/action_docs.py --check  # exit 1 when README.md is out of date (a test runs it)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _cell(text: Any) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _default(value: Any) -> str:
    return "(empty)" if value in ("", None) else f"`{_cell(value)}`"


def tables(action: dict[str, Any]) -> dict[str, str]:
    inputs = ["| input | default | description |", "|---|---|---|"]
    for name, spec in action["inputs"].items():
        inputs.append(
            f"| `{name}` | {_default(spec.get('default'))} | {_cell(spec['description'])} |"
        )
    outputs = ["| output | description |", "|---|---|"]
    for name, spec in action["outputs"].items():
        outputs.append(f"| `{name}` | {_cell(spec['description'])} |")
    return {"action-inputs": "\n".join(inputs), "action-outputs": "\n".join(outputs)}


def render(readme: str, action: dict[str, Any]) -> str:
    for key, table in tables(action).items():
        block = re.compile(rf"(<!-- {key}:start -->\n).*?(<!-- {key}:end -->)", re.S)
        readme, count = block.subn(lambda m, t=table: f"{m.group(1)}{t}\n{m.group(2)}", readme)
        if count != 1:
            raise SystemExit(f"README.md needs one <!-- {key}:start --> ... :end --> block")
    return readme


def main(argv: list[str]) -> int:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    updated = render(readme, action)
    if "--check" in argv:
        if updated != readme:
            print("README.md's action tables are out of date: python3 scripts/action_docs.py")
            return 1
        return 0
    (ROOT / "README.md").write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
