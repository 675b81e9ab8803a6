#!/bin/sh
# Entry point of the Autopack container action. The workspace is mounted from the runner and owned
# by another user, so git needs it marked safe; then `autopack action` reads the environment
# GitHub sets (GITHUB_*, INPUT_*). Any arguments replace `action` (e.g. `demo`, `--help`).
set -eu
if [ -n "${GITHUB_WORKSPACE:-}" ]; then
  git config --global --add safe.directory "$GITHUB_WORKSPACE"
fi
if [ "$#" -eq 0 ]; then
  set -- action
fi
exec autopack "$@"
