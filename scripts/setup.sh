#!/usr/bin/env bash
# Installs the Debian packages Kefu needs (scripts/debian-packages.txt), then configures and
# builds it in ./build with Ninja on two jobs. Safe to run again: it installs only what is
# missing or at another version, and rebuilds only what changed.
#
#   scripts/setup.sh            # packages + build
#   scripts/setup.sh --runtime  # packages + the host and its plugins only (no tests)
#   KEFU_BUILD_DIR=out scripts/setup.sh
#   KEFU_TEST_PACKAGES=1 scripts/setup.sh   # also scripts/debian-test-packages.txt
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${KEFU_BUILD_DIR:-build}
targets=()
case "${1:-}" in
  '') ;;
  --runtime) targets=(--target kefu-runtime) ;;
  *) echo "usage: scripts/setup.sh [--runtime]" >&2; exit 2 ;;
esac

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

# Which pinned packages are missing or at another version?
wanted=()
while read -r name version; do
  case "$name" in ''|'#'*) continue ;; esac
  have=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null || true)
  if [ "$have" != "ii  $version" ]; then wanted+=("$name=$version"); fi
done < <(cat scripts/debian-packages.txt
          if [ "${KEFU_TEST_PACKAGES:-0}" = 1 ]; then cat scripts/debian-test-packages.txt; fi)

if [ ${#wanted[@]} -gt 0 ]; then
  echo "setup: installing ${wanted[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${wanted[@]}"; then
    # A point release may have replaced a pinned version; take the archive's one instead.
    echo "setup: pinned versions unavailable; installing the archive's current versions" >&2
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${wanted[@]%%=*}"
  fi
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build_dir" -j2 "${targets[@]}"
