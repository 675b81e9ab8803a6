#!/usr/bin/env bash
# Refresh the image's lock files from pyproject.toml, with the sha256 of every file of every pinned
# release (all platforms and Pythons >= 3.11, so the same lock serves python:3.12-slim on GitHub and a
# Python 3.11 base in the local podman smoke build). The Dockerfile installs them with
# `pip install --require-hashes`.
#
#   scripts/lock.sh              # keep the current pins where pyproject.toml still allows them
#   scripts/lock.sh --upgrade    # move every pin to the newest release pyproject.toml allows
#
# requirements.lock        the runtime dependencies ([project] dependencies)
# requirements-build.lock  the build backend ([build-system] requires), used only to build the wheel
# Needs uv (`pip install uv`; set UV=/path/to/uv to use another). Review the diff, run the tests and
# the container smoke test (scripts/container-smoke.sh), then commit the lock files.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
command -v "$UV" >/dev/null || { echo "scripts/lock.sh needs uv: pip install uv" >&2; exit 1; }
compile=("$UV" pip compile --universal --python-version 3.11 --generate-hashes
  --custom-compile-command "scripts/lock.sh" "$@")
"${compile[@]}" pyproject.toml --output-file requirements.lock
python3 - <<'PY' | "${compile[@]}" - --output-file requirements-build.lock
import tomllib
with open("pyproject.toml", "rb") as fh:
    print("\n".join(tomllib.load(fh)["build-system"]["requires"]))
PY
