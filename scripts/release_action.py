"""Point action.yml at a prebuilt image: `runs.image: Dockerfile` becomes
`runs.image: docker://ghcr.io/<owner>/<repo>@sha256:<digest>`. The release workflow
(.github/workflows/release.yml) runs it on the tagged commit and commits the result as the release
commit that the version tags point to, so a released version pulls that exact image (by digest,
immutable) instead of building the Dockerfile; main keeps `image: Dockerfile` for development.

    python3 scripts/release_action.py docker://ghcr.io/acme/autopack@sha256:<64 hex digits>
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ACTION = Path(__file__).resolve().parents[1] / "action.yml"
IMAGE_REF = re.compile(
    r"docker://ghcr\.io/[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*@sha256:[0-9a-f]{64}"
)
_RUNS_IMAGE = re.compile(r"^(runs:\n(?:  .*\n)*?  image: ).*$", re.M)


def pin_image(text: str, image: str) -> str:
    """action.yml's text with its `runs.image` set to `image` (nothing else changes)."""
    if not IMAGE_REF.fullmatch(image):
        raise ValueError(f"not a ghcr.io image pinned by digest: {image!r}")
    updated, count = _RUNS_IMAGE.subn(lambda m: m.group(1) + image, text)
    if count != 1:
        raise ValueError("action.yml has no `runs:` block with an `image:` line")
    return updated


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        ACTION.write_text(pin_image(ACTION.read_text(encoding="utf-8"), argv[0]), encoding="utf-8")
    except ValueError as exc:
        print(f"release_action: {exc}", file=sys.stderr)
        return 1
    print(f"action.yml: runs.image = {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
