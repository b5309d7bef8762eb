#!/usr/bin/env bash
# Builds berth's test images from nothing but Debian packages, so tests can run with no
# registry access:
#   berth-test/busybox:latest  a static busybox on `FROM scratch` (default command `sh`),
#                              with /www/index.html for `busybox httpd -f -p 8080 -h /www`;
#   berth-test/pause:latest    the same, holding forever until SIGTERM: the pause container
#                              of awsvpc tasks in tests (production agents take their pause
#                              image from configuration).
#
# Usage: tests/images/build.sh [--force]
#   Skips the build when the image already exists, unless --force.
set -euo pipefail

IMAGE="berth-test/busybox:latest"
PAUSE_IMAGE="berth-test/pause:latest"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
  esac
done

# Test processes start in parallel (nextest, pytest-xdist) and each may call this script:
# one builds while the others wait, then find the images there (two apt-gets at once fail
# on dpkg's lock).
exec 9>"${TMPDIR:-/tmp}/berth-test-images.lock"
flock 9

if [[ $force -eq 0 ]] && docker image inspect "$IMAGE" "$PAUSE_IMAGE" >/dev/null 2>&1; then
  exit 0
fi

# A static busybox runs on an empty root filesystem; a dynamically linked one would not.
is_static() {
  [[ -x "$1" ]] || return 1
  # ldd says "not a dynamic executable" (glibc) or "statically linked" for static binaries.
  local out
  out="$(ldd "$1" 2>&1 || true)"
  [[ "$out" == *"not a dynamic executable"* || "$out" == *"statically linked"* ]]
}

busybox=/bin/busybox
if ! is_static "$busybox"; then
  echo "installing Debian's busybox-static (for $IMAGE)" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be absent or stale on a fresh machine: update once and retry.
  if ! $sudo apt-get install -y -qq busybox-static >/dev/null; then
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq busybox-static >/dev/null
  fi
  if ! is_static "$busybox"; then
    echo "error: $busybox is still not a static binary after installing busybox-static" >&2
    exit 1
  fi
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$here/busybox/Dockerfile" "$here/busybox/index.html" "$here/busybox/passwd" "$here/busybox/group" "$ctx/"
cp "$busybox" "$ctx/busybox"

# The build's chatter (including the legacy builder's deprecation notice) is shown only on failure.
build() {
  local tag="$1" context="$2" out
  if ! out="$(docker build -q -t "$tag" "$context" 2>&1)"; then
    echo "$out" >&2
    echo "error: building $tag failed" >&2
    exit 1
  fi
  echo "built $tag" >&2
}
build "$IMAGE" "$ctx"
# FROM the image just built: found locally, nothing is pulled.
build "$PAUSE_IMAGE" "$here/pause"
