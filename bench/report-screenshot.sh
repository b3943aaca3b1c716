#!/usr/bin/env bash
# Renders a report.html with headless Chromium and saves a PNG, to check that the charts
# draw without network access. Installs Debian's chromium with apt-get when it is missing.
#
#   bench/report-screenshot.sh REPORT_DIR [PNG]     # PNG defaults to REPORT_DIR/report.png
set -euo pipefail
dir=${1:?usage: bench/report-screenshot.sh REPORT_DIR [PNG]}
png=${2:-$dir/report.png}
html=$(realpath "$dir/report.html")
[ -f "$html" ] || { echo "report-screenshot: no report.html in $dir" >&2; exit 1; }

# The page names KPIs in Chinese too; a small CJK font makes them readable in the PNG.
if ! command -v chromium >/dev/null || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core fonts-wqy-microhei >/dev/null
fi

# A profile of its own so that nothing of the user's is read or changed; every host name
# fails to resolve and background services are off, since the page must need no network.
profile=$(mktemp -d /tmp/kefu-chromium-XXXXXX)
trap 'rm -rf "$profile"' EXIT
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$profile" --host-resolver-rules="MAP * ~NOTFOUND" \
  --no-first-run --disable-extensions --disable-background-networking \
  --disable-component-update --disable-sync --metrics-recording-only \
  --window-size=1280,5600 --virtual-time-budget=5000 \
  --screenshot="$(realpath -m "$png")" "file://$html" 2>"$profile/chromium.log" || {
  cat "$profile/chromium.log" >&2
  exit 1
}
echo "report-screenshot: $png"
