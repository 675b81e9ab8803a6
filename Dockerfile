# The Autopack action's image, built from the lock files: every Python package is pinned and
# hash-checked (requirements.lock: runtime; requirements-build.lock: the build backend that turns
# src/ into a wheel). Refresh them with scripts/lock.sh; refresh the base digest with
# scripts/pin-base-image.sh.
#
# BASE_IMAGE: any Debian-like image with Python 3.11+. The default is python:3.12-slim pinned by its
# multi-platform digest; scripts/container-smoke.sh passes a local base built with debootstrap.
# Both stages use the same base, so the virtual environment copied from `build` finds its Python.
ARG BASE_IMAGE=python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock requirements-build.lock pyproject.toml README.md LICENSE /src/
COPY src /src/src
# wheels/, when it holds wheels (scripts/container-smoke.sh fills it), is the only package source:
# the build then needs no network. The hashes are checked either way.
COPY wheels /src/wheels
RUN set -eu; \
    if ls /src/wheels/*.whl >/dev/null 2>&1; then \
      set -- --no-index --find-links /src/wheels; \
    fi; \
    python3 -m venv /opt/build; \
    /opt/build/bin/pip install -q "$@" --require-hashes -r /src/requirements-build.lock; \
    /opt/build/bin/pip wheel -q --no-deps --no-build-isolation --no-index -w /dist /src; \
    python3 -m venv /opt/autopack; \
    /opt/autopack/bin/pip install -q "$@" --require-hashes -r /src/requirements.lock; \
    /opt/autopack/bin/pip install -q --no-deps --no-index /dist/autopack-*.whl; \
    /opt/autopack/bin/pip check; \
    /opt/autopack/bin/pip uninstall -q -y pip setuptools

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="Autopack" \
      org.opencontainers.image.description="Turn a labelled issue into a review-ready pull request" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/autopack \
    PATH=/opt/autopack/bin:$PATH
# git for the workspace; ca-certificates for the APIs. Skipped when the base image has them.
RUN if ! command -v git >/dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /opt/autopack /opt/autopack
# `autopack action` marks $GITHUB_WORKSPACE as a git safe.directory itself; any arguments
# (e.g. `demo`, `--help`) replace `action`.
ENTRYPOINT ["autopack"]
CMD ["action"]
