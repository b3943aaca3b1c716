#!/usr/bin/env bash
# The main job on the embedded default: sets up and builds Kefu, checks the sample
# deployment (samples/deploy/default.toml: SQLite, every in-tree plugin), generates a
# realistic day of calls (kefu gen-calls), replays it on the deployment's router with a
# virtual clock (kefu replay) and writes the KPI report, observed vs simulated, to
# var/sample/replay/report.html.
#
#   scripts/demo.sh                                  # a generated day
#   scripts/demo.sh --calls FILE [--format FORMAT]   # a real call log instead
#
# FORMAT is anonymous-bank (default) or a TOML column mapping (sdk-docs/call-logs.md).
# `kefu serve --config samples/deploy/default.toml` runs the same deployment as a service.
set -euo pipefail
calls="" format=anonymous-bank
while [[ $# -gt 0 ]]; do
  case $1 in
    --calls) calls=$(realpath "${2:?--calls needs a file}"); shift 2 ;;
    --format) format=${2:?--format needs a value}; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--calls FILE [--format FORMAT]]" >&2; exit 2 ;;
  esac
done
[[ $format == anonymous-bank || -z $format ]] || format=$(realpath "$format")
cd "$(dirname "$0")/.."
scripts/setup.sh --runtime
build_dir=${KEFU_BUILD_DIR:-build}
kefu="$build_dir/bin/kefu"
config=samples/deploy/default.toml
data=var/sample

"$kefu" check --config "$config" --data-dir "$data"
if [[ -z $calls ]]; then
  mkdir -p "$data"
  calls=$data/generated-day.txt
  "$kefu" gen-calls --out "$calls" --days 1 --start 2026-01-05 --seed 1
fi
"$kefu" replay --config "$config" --data-dir "$data" --calls "$calls" --format "$format" \
  --out "$data/replay"
echo
echo "demo: open $PWD/$data/replay/report.html in a browser (observed vs simulated KPIs)"
