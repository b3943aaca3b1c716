#!/usr/bin/env bash
# The main job on the embedded default: sets up and builds Kefu, checks the sample
# deployment (samples/deploy/default.toml: SQLite, every in-tree plugin), lists its plugins
# and serves it on 127.0.0.1:8080 until Ctrl-C. State goes to var/sample/.
#
#   scripts/demo.sh                       # serve on 127.0.0.1:8080
#   scripts/demo.sh --listen 127.0.0.1:0  # any free port
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir=${KEFU_BUILD_DIR:-build}
kefu="$build_dir/bin/kefu"
config=samples/deploy/default.toml
data=var/sample

"$kefu" check --config "$config" --data-dir "$data"
"$kefu" plugins list --config "$config" --data-dir "$data"
echo
echo "demo: the administrator token will be in $data/admin.token; try"
echo "  curl -H \"Authorization: Bearer \$(cat $data/admin.token)\" \\"
echo "       http://127.0.0.1:8080/api/v1/plugins"
exec "$kefu" serve --config "$config" --data-dir "$data" "$@"
