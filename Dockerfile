# The Autopack action's image. BASE_IMAGE is any Debian-like image with Python 3.11+; the default is
# the official slim one. (scripts/container-smoke.sh builds it from a local base with podman.)
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/autopack \
    PATH=/opt/autopack/bin:$PATH

# git for the workspace; ca-certificates for the APIs. Skipped when the base image has them.
RUN if ! command -v git >/dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi

COPY pyproject.toml README.md /src/
COPY src /src/src
# wheels/, when present (scripts/container-smoke.sh makes it), installs with no network.
COPY wheels /src/wheels
RUN python3 -m venv /opt/autopack \
    && if ls /src/wheels/*.whl >/dev/null 2>&1; then \
         /opt/autopack/bin/pip install --no-index --find-links /src/wheels autopack; \
       else \
         /opt/autopack/bin/pip install /src; \
       fi \
    && /opt/autopack/bin/python -m pip uninstall -q -y pip setuptools \
    && rm -rf /src /root/.cache
# `autopack action` marks $GITHUB_WORKSPACE as a git safe.directory itself; any arguments
# (e.g. `demo`, `--help`) replace `action`.
ENTRYPOINT ["autopack"]
CMD ["action"]
