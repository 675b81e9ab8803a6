#!/usr/bin/env bash
# Re-pin the Dockerfile's default base image to the current digest of a tag (default
# python:3.12-slim): the digest of the multi-platform index, so amd64 and arm64 builds both use it.
# Needs a registry client that reaches Docker Hub: skopeo, or docker with buildx. Review the diff,
# build the image (CI's `image` job does), and commit.
#
#   scripts/pin-base-image.sh                       # python:3.12-slim
#   scripts/pin-base-image.sh python:3.13-slim
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-python:3.12-slim}
if command -v skopeo >/dev/null; then
  digest=$(skopeo inspect --raw "docker://docker.io/library/$ref" | sha256sum | cut -d' ' -f1)
  digest="sha256:$digest"
else
  digest=$(docker buildx imagetools inspect "$ref" --format '{{json .Manifest}}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
fi
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "no digest for $ref: $digest" >&2; exit 1; }
sed -i -E "s|^ARG BASE_IMAGE=.*$|ARG BASE_IMAGE=$ref@$digest|" Dockerfile
grep -n '^ARG BASE_IMAGE=' Dockerfile
