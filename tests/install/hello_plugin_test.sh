#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Install test: what a plugin author outside this repository does. It installs Kefu into a
# fresh prefix, builds samples/hello-plugin against that prefix with find_package(Kefu),
# and checks that the installed host loads it beside its own plugins, protects its route,
# runs its command and journals its event.
#
#   tests/install/hello_plugin_test.sh <kefu build dir> <kefu source dir>
#
# KEFU_TEST_KEEP=1 keeps the temporary directory for a look after a failure.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <kefu build dir> <kefu source dir>" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd -P)
src_dir=$(cd "$2" && pwd -P)

# The plugins of this repository that samples/hello-plugin/hello.toml enables.
in_tree_plugins=(event-journal system-monitor)

# Only the directories given on the command line may supply plugins.
unset KEFU_PLUGIN_PATH

# pwd -P: the host reports plugin files under the real path of its executable.
work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/kefu-install-test.XXXXXX")" && pwd -P)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ ${KEFU_TEST_KEEP:-} == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok: %s\n' "$*"; }
# fail <message> [file...]: prints the message and the files that explain it, then exits.
fail() {
  printf 'FAIL: %s\n' "$1" >&2
  shift
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '--- %s\n' "${f#"$work"/}" >&2
    sed 's/^/    /' "$f" >&2
    [[ -z $(tail -c 1 "$f") ]] || echo >&2  # a last line without its newline
  done
  exit 1
}

# expect_loaded <listing> <name> <file>: the `kefu plugins list` table has a row for
# <name> whose state is exactly `loaded` and whose FILE column is <file>.
expect_loaded() {
  local listing=$1 name=$2 file=$3 row
  row=$(grep -E "^${name}[[:space:]]" "$listing") ||
    fail "'kefu plugins list' has no row for '$name'" "$listing"
  grep -Eq "[[:space:]]loaded$" <<<"$row" ||
    fail "plugin '$name' is '${row##* }', expected 'loaded'" "$listing"
  grep -Fq "  $file  " <<<"$row" ||
    fail "plugin '$name' was not loaded from $file" "$listing"
  pass "$name loaded from $file"
}

# http_get <body file> <curl args...>: prints the HTTP status code. Never through a proxy:
# the only server this test talks to is the one it started on loopback.
http_get() {
  local body=$1
  shift
  curl --silent --show-error --noproxy '*' --max-time 10 -o "$body" -w '%{http_code}' "$@"
}

for tool in cmake curl timeout; do
  command -v "$tool" >/dev/null || fail "this test needs $tool"
done

prefix=$work/prefix
kefu=$prefix/bin/kefu
hello_src=$src_dir/samples/hello-plugin
hello_build=$work/hello-build
toml=$hello_src/hello.toml
data=$work/data

step "install $build_dir into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  fail "cmake --install failed" "$work/install.log"
for f in bin/kefu lib/cmake/Kefu/KefuConfig.cmake lib/cmake/Kefu/KefuConfigVersion.cmake \
         lib/cmake/Kefu/KefuTargets.cmake lib/cmake/Kefu/KefuPlugin.cmake \
         share/kefu/samples/deploy/default.toml share/kefu/samples/hello-plugin/hello.toml; do
  [[ -f $prefix/$f ]] || fail "the install has no $f" "$work/install.log"
done
[[ -x $kefu ]] || fail "$kefu is not executable"
diff <(cd "$src_dir/plugin-api/include/kefu" && ls) <(cd "$prefix/include/kefu" && ls) \
  >"$work/headers.diff" || fail "include/kefu differs from plugin-api/include/kefu" \
  "$work/headers.diff"
diff <(cd "$build_dir/lib/kefu/plugins" && ls kefu-*.so) \
     <(cd "$prefix/lib/kefu/plugins" && ls kefu-*.so) >"$work/plugins.diff" ||
  fail "lib/kefu/plugins differs from the plugins of the build tree" "$work/plugins.diff"
pass "bin, include, lib/kefu/plugins, lib/cmake/Kefu and share/kefu/samples installed"

step "the installed host finds its own plugins beside its executable"
"$kefu" plugins list --config "$prefix/share/kefu/samples/deploy/default.toml" \
  --data-dir "$data" >"$work/list-default.out" 2>"$work/list-default.err" ||
  fail "kefu plugins list exited with $?" "$work/list-default.out" "$work/list-default.err"
for p in "${in_tree_plugins[@]}"; do
  expect_loaded "$work/list-default.out" "$p" "$prefix/lib/kefu/plugins/kefu-$p.so"
done

step "build samples/hello-plugin out of tree against $prefix"
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
# The compiler Kefu was built with: plugin and host exchange std:: types.
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
cmake -S "$hello_src" -B "$hello_build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON ${cxx:+"-DCMAKE_CXX_COMPILER=$cxx"} \
  >"$work/hello-configure.log" 2>&1 || fail "configuring the sample failed" \
  "$work/hello-configure.log"
kefu_dir=$(sed -n 's/^Kefu_DIR:PATH=//p' "$hello_build/CMakeCache.txt")
[[ $kefu_dir == "$prefix/lib/cmake/Kefu" ]] ||
  fail "find_package(Kefu) found '$kefu_dir', not the package in $prefix"
cmake --build "$hello_build" >"$work/hello-build.log" 2>&1 ||
  fail "building the sample failed" "$work/hello-build.log"
[[ -f $hello_build/kefu-hello.so ]] || fail "no kefu-hello.so in $hello_build" \
  "$work/hello-build.log"
pass "built $hello_build/kefu-hello.so with Kefu_DIR=$kefu_dir"
cmake --install "$hello_build" --prefix "$work/hello-prefix" >"$work/hello-install.log" 2>&1 ||
  fail "installing the sample failed" "$work/hello-install.log"
[[ -f $work/hello-prefix/lib/kefu/plugins/kefu-hello.so ]] ||
  fail "the sample did not install into <prefix>/lib/kefu/plugins" "$work/hello-install.log"
pass "cmake --install puts it into <its prefix>/lib/kefu/plugins"

step "kefu plugins list --config hello.toml --plugin-dir <hello build dir>"
"$kefu" plugins list --config "$toml" --plugin-dir "$hello_build" --data-dir "$data" \
  >"$work/list-hello.out" 2>"$work/list-hello.err" ||
  fail "kefu plugins list exited with $?" "$work/list-hello.out" "$work/list-hello.err"
expect_loaded "$work/list-hello.out" hello "$hello_build/kefu-hello.so"
for p in "${in_tree_plugins[@]}"; do
  expect_loaded "$work/list-hello.out" "$p" "$prefix/lib/kefu/plugins/kefu-$p.so"
done

step "kefu check rejects an empty greeting at its line"
sed 's/^greeting = .*/greeting = ""/' "$toml" >"$work/bad.toml"
line=$(grep -n '^greeting = ""' "$work/bad.toml" | cut -d: -f1)
[[ -n $line ]] || fail "could not write a bad greeting into a copy of hello.toml"
if "$kefu" check --config "$work/bad.toml" --plugin-dir "$hello_build" --data-dir "$data" \
     >"$work/check.out" 2>"$work/check.err"; then
  fail "kefu check accepted greeting = \"\"" "$work/check.out" "$work/check.err"
fi
if ! grep -Fq "$work/bad.toml:$line:" "$work/check.err" ||
   ! grep -Fq "plugins.hello.greeting: must not be empty" "$work/check.err"; then
  fail "kefu check did not name bad.toml:$line and plugins.hello.greeting" "$work/check.err"
fi
pass "$(grep -F 'must not be empty' "$work/check.err" | head -n 1)"

step "kefu serve --listen 127.0.0.1:0"
"$kefu" serve --config "$toml" --plugin-dir "$hello_build" --data-dir "$data" \
  --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
port=
for ((i = 0; i < 100; i++)); do  # up to 20 s
  # The file may not exist yet: the background shell creates it.
  port=$(sed -n 's|.*serving on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' \
           "$work/serve.out" 2>/dev/null || true)
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "kefu serve exited before serving" \
    "$work/serve.out" "$work/serve.err"
  sleep 0.2
done
[[ -n $port ]] || fail "kefu serve printed no 'serving on' line in 20 s" "$work/serve.out" \
  "$work/serve.err"
base=http://127.0.0.1:$port
pass "$(head -n 1 "$work/serve.out")"

[[ -f $data/admin.token ]] || fail "no admin.token in the data directory" "$work/serve.err"
token=$(head -n 1 "$data/admin.token")

code=$(http_get "$work/hello.json" -H "Authorization: Bearer $token" -G \
  --data-urlencode "name=测试" "$base/api/v1/hello") || fail "curl could not reach $base"
[[ $code == 200 ]] || fail "GET /api/v1/hello with the token: $code, expected 200" \
  "$work/hello.json" "$work/serve.err"
grep -Fq '"message":"你好，测试"' "$work/hello.json" ||
  fail "GET /api/v1/hello answered an unexpected body" "$work/hello.json"
pass "GET /api/v1/hello with the token: 200 $(cat "$work/hello.json")"

code=$(http_get "$work/anonymous.json" "$base/api/v1/hello") || fail "curl could not reach $base"
[[ $code == 401 ]] || fail "GET /api/v1/hello without a token: $code, expected 401" \
  "$work/anonymous.json"
grep -Fq '"code":"unauthenticated"' "$work/anonymous.json" ||
  fail "the 401 has no unauthenticated error body" "$work/anonymous.json"
code=$(http_get "$work/wrong.json" -H "Authorization: Bearer not-the-token" \
  "$base/api/v1/hello") || fail "curl could not reach $base"
[[ $code == 401 ]] || fail "GET /api/v1/hello with a wrong token: $code, expected 401" \
  "$work/wrong.json"
pass "GET /api/v1/hello without a token and with a wrong one: 401"

kill -TERM "$server_pid"
for ((i = 0; i < 75; i++)); do  # up to 15 s; hello.toml allows 5 s to drain
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
kill -0 "$server_pid" 2>/dev/null &&
  fail "kefu serve still runs 15 s after SIGTERM" "$work/serve.out" "$work/serve.err"
status=0
wait "$server_pid" || status=$?
server_pid=
[[ $status == 0 ]] || fail "kefu serve exited with $status after SIGTERM, expected 0" \
  "$work/serve.out" "$work/serve.err"
pass "kefu serve exited with 0 after SIGTERM"

step "kefu hello greet --name 测试"
out=$(timeout 30 "$kefu" hello greet --name 测试 --config "$toml" --plugin-dir "$hello_build" \
  --data-dir "$data" 2>"$work/greet.err") || fail "kefu hello greet exited with $?" \
  "$work/greet.err"
[[ $out == "你好，测试" ]] || fail "kefu hello greet printed '$out', expected '你好，测试'" \
  "$work/greet.err"
pass "kefu hello greet printed '$out'"
if timeout 30 "$kefu" hello greet --config "$toml" --plugin-dir "$hello_build" \
     --data-dir "$data" >"$work/noname.out" 2>&1; then
  fail "kefu hello greet without --name succeeded" "$work/noname.out"
fi
grep -Fq -- "--name" "$work/noname.out" || fail "no word about --name" "$work/noname.out"
pass "kefu hello greet without --name fails and names the option"

step "the events reached a subscriber: kefu journal tail --topic hello"
# One event from the authenticated request, one from the command; none from the 401s.
out=$(timeout 30 "$kefu" journal tail --topic hello --config "$toml" \
  --plugin-dir "$hello_build" --data-dir "$data" 2>"$work/tail.err") ||
  fail "kefu journal tail (of the event-journal plugin) exited with $?" "$work/tail.err"
printf '%s\n' "$out" >"$work/tail.out"
count=$(grep -c 'hello\.greeted  \[hello\]  {"name":"测试"}' "$work/tail.out" || true)
[[ $count == 2 ]] || fail "expected 2 hello.greeted events in the journal, found $count" \
  "$work/tail.out"
pass "the journal holds 2 hello.greeted events (HTTP and CLI)"

printf '\nPASS: hello plugin builds against the installed SDK and loads\n'
