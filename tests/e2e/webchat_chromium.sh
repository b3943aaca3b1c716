#!/usr/bin/env bash
# Runs the web-chat end-to-end test in headless Chromium, installing Debian's chromium with
# apt-get when it is missing; skips (exit 77) with a message when it cannot be installed.
#
#   tests/e2e/webchat_chromium.sh KEFU_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v chromium >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install \
      -y -qq --no-install-recommends chromium; } >/dev/null 2>&1; then
    echo "SKIPPED: chromium is not installed and apt-get could not install it"
    exit 77
  fi
fi
exec /usr/bin/python3 "$here/webchat_chromium.py" "${1:?usage: webchat_chromium.sh KEFU}" \
  "$here/webchat_deploy.toml"
