#!/usr/bin/env bash
# Routing decisions per second of the routing-acd engine against a SQLite baseline doing
# the same job with one transaction per decision (see plugins/routing-acd/routing_bench.cpp).
# Finds kefu through $KEFU, else in the build tree. Extra arguments go to the bench.
#
#   bench/routing.sh                       # 10,000 agents, 200 skills, 1,000,000 contacts
#   bench/routing.sh --contacts 200000
set -euo pipefail
cd "$(dirname "$0")/.."
kefu=${KEFU:-build/bin/kefu}
[ -x "$kefu" ] || { echo "bench: no kefu at $kefu (build first or set KEFU)" >&2; exit 1; }
exec "$kefu" bench routing --agents 10000 --skills 200 "$@"
