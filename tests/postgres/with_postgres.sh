#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server: initdb into a temp directory, start it
# on a free loopback port as an unprivileged user (PostgreSQL refuses to run as root), create
# a database, export KEFU_TEST_PG_URL and KEFU_TEST_PG_PASSWORD, run the command, stop the
# server and remove its files.
#
#   tests/postgres/with_postgres.sh build/bin/kefu_unit_tests "[postgres]"
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "with_postgres: no PostgreSQL server binaries (install postgresql-15)" >&2
  exit 1
fi

# The server runs as the invoking user, or as 'postgres' when that is root.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres > /dev/null 2>&1 || useradd --system --no-create-home postgres
  run_as=(runuser -u postgres --)
fi

work=$(mktemp -d /tmp/kefu-pg-XXXXXX)
chmod 755 "$work"
cleanup() {
  "${run_as[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ ${#run_as[@]} -gt 0 ]; then chown postgres "$work"; fi

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$password" > "$work/pw"
if [ ${#run_as[@]} -gt 0 ]; then chown postgres "$work/pw"; fi
"${run_as[@]}" "$pg_bin/initdb" -D "$work/data" -U kefu --pwfile="$work/pw" \
  --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 > "$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; exit 1; }

# A free port: ask the kernel for one, then hand it to the server.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
"${run_as[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c fsync=off" start > /dev/null \
  || { cat "$work/server.log" >&2; exit 1; }
PGPASSWORD=$password "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U kefu kefu_test

export KEFU_TEST_PG_URL="postgresql://kefu@127.0.0.1:$port/kefu_test"
export KEFU_TEST_PG_PASSWORD=$password
"$@"
