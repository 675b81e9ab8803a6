#!/usr/bin/env bash
# Build the action's image with podman and run `autopack demo` inside it (no network at run time).
# Not part of CI. Needs: apt-get install -y podman runc debootstrap (and root, for debootstrap).
# On machines without a registry the base image is bootstrapped from Debian's archive; set
# BASE_IMAGE to use an existing image instead (e.g. BASE_IMAGE=docker.io/library/python:3.12-slim).
# Prints the image size and the time from `podman run` to the container's first line of output.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/autopack:smoke}
BASE_IMAGE=${BASE_IMAGE:-localhost/autopack-base:bookworm}
ROOTFS=${ROOTFS:-/tmp/autopack-rootfs}

conf=$(mktemp)
cat > "$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$conf

if [[ $BASE_IMAGE == localhost/autopack-base:* ]] && ! podman image exists "$BASE_IMAGE"; then
  if [[ ! -x $ROOTFS/usr/bin/python3 ]]; then
    echo "bootstrapping a Debian bookworm base into $ROOTFS (30-60 s)"
    debootstrap --variant=minbase \
      --include=python3,python3-venv,python3-pip,git,ca-certificates bookworm "$ROOTFS"
  fi
  tar -C "$ROOTFS" -c . | podman import - "$BASE_IMAGE"
fi

# Build from a wheelhouse made on this host: the build then needs no network (and no trust in
# whatever TLS interception the host's pip is configured for). It holds exactly the locked releases,
# downloaded hash-checked for the base image's Python; the image checks the hashes again.
pyver=$(podman run --rm --network=none "$BASE_IMAGE" python3 -c \
  'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
rm -f wheels/*.whl
trap 'rm -f wheels/*.whl "$conf"' EXIT
"${PYTHON:-python3}" -m pip download -q --require-hashes --no-deps --only-binary=:all: \
  --python-version "$pyver" -r requirements.lock -r requirements-build.lock -d wheels

started=$(date +%s.%N)
podman build --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" .
built=$(date +%s.%N)

# Exactly the locked releases (and Autopack) are installed, nothing else.
podman run --rm --network=none --entrypoint python3 "$IMAGE" -c \
  'import importlib.metadata as m; print("\n".join(d.metadata["Name"] + "==" + d.version for d in m.distributions()))' \
  | "${PYTHON:-python3}" -c '
import re, sys
def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
pins = {norm(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", open("requirements.lock").read(), re.M)}
seen = {norm(n): v for n, v in (line.strip().split("==", 1) for line in sys.stdin if "==" in line)}
seen.pop("autopack")
wrong = {n: v for n, v in seen.items() if pins.get(n) != v}
if wrong:
    sys.exit(f"installed but not as locked: {wrong}")
print(f"installed: the {len(seen)} locked releases and autopack, as locked")
'

size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "image $IMAGE: $(( size / 1000000 )) MB, built in $(awk "BEGIN{printf \"%.1f\", $built - $started}") s"

run_started=$(date +%s.%N)
stamp=$(mktemp)
set +e
podman run --rm --network=none "$IMAGE" demo 2>&1 | while IFS= read -r line; do
  [[ -s $stamp ]] || date +%s.%N > "$stamp"
  echo "  | $line"
done
status=${PIPESTATUS[0]}
set -e
ended=$(date +%s.%N)
first=$(cat "$stamp")
rm -f "$stamp"
echo "time to first output: $(awk "BEGIN{printf \"%.2f\", $first - $run_started}") s;" \
  "demo finished in $(awk "BEGIN{printf \"%.1f\", $ended - $run_started}") s (exit $status)"
exit "$status"
