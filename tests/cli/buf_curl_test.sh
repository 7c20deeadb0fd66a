#!/usr/bin/env bash
# A third-party gRPC client against a live skillstore-server: buf curl (from
# the npm registry, @bufbuild/buf) with server reflection only, no .proto
# files. It lists the services, calls GetProgress, ListWorkers and the health
# check, enqueues a task from JSON, claims it and streams its result as a
# worker would, and runs every grpcurl example of the
# README (between the grpcurl-examples markers) through a grpcurl -> buf curl
# shim, so the README cannot drift from what the server does.
#
# Env (set by ctest): SKILLSTORE_BIN, SKILLSTORE_SRC, SKILLSTORE_BUILD.
set -euo pipefail

bin="${SKILLSTORE_BIN:?}"
src="${SKILLSTORE_SRC:?}"
build="${SKILLSTORE_BUILD:?}"
fail() { echo "buf_curl_test: FAIL: $*" >&2; exit 1; }

# ------------------------------------------------------------ buf from npm
# Installed once per build tree; later runs find it at once.
cache="$build/third_party/buf"
buf="$cache/node_modules/.bin/buf"
if [ ! -x "$buf" ]; then
  command -v npm >/dev/null || fail "npm is not installed: run deploy/install-deps.sh (it installs npm)"
  mkdir -p "$cache"
  echo "installing @bufbuild/buf from $(npm config get registry) into $cache"
  # flock: parallel ctest runs must not install into the same folder at once.
  if ! flock "$cache/.lock" npm install --prefix "$cache" --no-audit --no-fund \
      --loglevel=error "@bufbuild/buf@^1" >"$cache/npm.log" 2>&1; then
    cat "$cache/npm.log" >&2
    fail "could not install @bufbuild/buf from the npm registry ($(npm config get registry)): is the network (or a registry mirror, npm config set registry URL) reachable?"
  fi
fi
"$buf" --version >/dev/null || fail "$buf does not run"
echo "buf $("$buf" --version)"

# ------------------------------------------------------------ live server
work="$(mktemp -d "${TMPDIR:-/tmp}/skillstore-buf.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$bin/skillstore-server" --listen 127.0.0.1:0 --db "$work/skillstore.db" >"$work/server.log" 2>&1 &
server_pid=$!
addr=""
for _ in $(seq 300); do
  addr="$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work/server.log" | head -n1)"
  [ -n "$addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "server exited"; }
  sleep 0.1
done
[ -n "$addr" ] || fail "server did not start"
echo "server at $addr"

bufcurl() { "$buf" curl --protocol grpc --http2-prior-knowledge "$@"; }
expect() {  # expect NAME OUTPUT NEEDLE...
  local name="$1" out="$2"; shift 2
  for needle in "$@"; do
    grep -qF -- "$needle" <<<"$out" || fail "$name: expected '$needle' in: $out"
  done
  echo "ok: $name"
}

# ------------------------------------------------------------ direct calls
# Everything below speaks only what server reflection shows: no .proto files.
out="$(bufcurl --list-services "http://$addr")"
expect "list services" "$out" skillstore.v1.SkillStore grpc.health.v1.Health
out="$(bufcurl --list-methods "http://$addr")"
expect "list methods" "$out" \
  skillstore.v1.SkillStore/Enqueue skillstore.v1.SkillStore/ClaimTask \
  skillstore.v1.SkillStore/SubmitResult skillstore.v1.SkillStore/Heartbeat \
  skillstore.v1.SkillStore/GetProgress skillstore.v1.SkillStore/WatchProgress \
  skillstore.v1.SkillStore/ListTasks skillstore.v1.SkillStore/GetTask \
  skillstore.v1.SkillStore/GetResult skillstore.v1.SkillStore/ListWorkers \
  skillstore.v1.SkillStore/CancelTask skillstore.v1.SkillStore/RetryTask

expect "health methods" "$out" grpc.health.v1.Health/Check grpc.health.v1.Health/Watch
out="$(bufcurl -d '{}' "http://$addr/grpc.health.v1.Health/Check")"
expect "health check" "$out" SERVING
out="$(bufcurl -d '{"service":"skillstore.v1.SkillStore"}' "http://$addr/grpc.health.v1.Health/Check")"
expect "health check of the service" "$out" SERVING

content="$(base64 -w0 "$src/examples/skills/test-driven-development/SKILL.md")"
out="$(bufcurl -d "{\"tasks\":[{\"type\":\"TASK_TYPE_ANALYZE\",\"skill_path\":\"tdd/SKILL.md\",\"content\":\"$content\",\"priority\":5}]}" \
  "http://$addr/skillstore.v1.SkillStore/Enqueue")"
expect "enqueue from JSON" "$out" '"taskIds"'
task_id="$(sed -n 's/.*"taskIds": *\[ *"\([^"]*\)".*/\1/p' <<<"$(tr -d '\n' <<<"$out")")"
[ -n "$task_id" ] || fail "no task id in $out"
out="$(bufcurl -d "{\"task_id\":\"$task_id\"}" "http://$addr/skillstore.v1.SkillStore/GetTask")"
expect "get enqueued task" "$out" TASK_TYPE_ANALYZE tdd/SKILL.md TASK_STATUS_QUEUED

out="$(bufcurl -d '{}' "http://$addr/skillstore.v1.SkillStore/GetProgress")"
expect "get progress" "$out" '"total": "1"' '"queued": "1"'

# A worker appears in ListWorkers once it heartbeats.
bufcurl -d '{"worker_id":"buf-worker","hostname":"buf-host","concurrency":1}' \
  "http://$addr/skillstore.v1.SkillStore/Heartbeat" >/dev/null
out="$(bufcurl -d '{}' "http://$addr/skillstore.v1.SkillStore/ListWorkers")"
expect "list workers" "$out" buf-worker buf-host

# A worker's round trip: claim the task, stream its result (the stream's
# messages are parsed by the server itself, submit_stream.h), read it back.
out="$(bufcurl -d '{"worker_id":"buf-worker","max_tasks":1}' "http://$addr/skillstore.v1.SkillStore/ClaimTask")"
expect "claim" "$out" "\"taskId\": \"$task_id\"" '"fencingToken"'
token="$(sed -n 's/.*"fencingToken": *"\([0-9]*\)".*/\1/p' <<<"$(tr -d '\n' <<<"$out")")"
[ -n "$token" ] || fail "no fencing token in $out"
result="$(printf '{"findings":[],"risk_level":"safe"}' | base64 -w0)"
out="$(bufcurl -d "{\"task_id\":\"$task_id\",\"fencing_token\":\"$token\",\"worker_id\":\"buf-worker\",\"success\":true,\"result_json\":\"$result\"}" \
  "http://$addr/skillstore.v1.SkillStore/SubmitResult")"
expect "submit result" "$out" '"accepted": true' TASK_STATUS_COMPLETED
out="$(bufcurl -d "{\"task_id\":\"$task_id\"}" "http://$addr/skillstore.v1.SkillStore/GetResult")"
expect "get result" "$out" risk_level
# The result in pieces, as a client with gRPC's default 4 MiB receive limit
# reads a big one (the result above is 35 bytes).
out="$(bufcurl -d "{\"task_id\":\"$task_id\",\"result_offset\":\"16\",\"max_result_bytes\":10}" \
  "http://$addr/skillstore.v1.SkillStore/GetResult")"
expect "get a piece of the result" "$out" '"resultJson": "risk_level"' '"resultBytes": "35"' \
  '"nextResultOffset": "26"'

# A bad request gets a status code and a message a person can act on.
if out="$(bufcurl -d '{"tasks":[{"skill_path":"x"}]}' "http://$addr/skillstore.v1.SkillStore/Enqueue" 2>&1)"; then
  fail "enqueue without a type was accepted: $out"
fi
expect "bad request" "$out" invalid_argument

# ------------------------------------------------------------ README examples
# grpcurl is not packaged for Debian 12; this shim runs the README's grpcurl
# command lines with buf curl, rewriting only the address.
grpcurl() {
  local data="" target="" method="" list=0 import_path="." schema=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -plaintext) shift ;;
      -d) data="$2"; shift 2 ;;
      -import-path) import_path="$2"; shift 2 ;;
      -proto) schema=(--reflect --schema "$import_path/$2"); shift 2 ;;
      list) list=1; shift ;;
      -*) fail "README uses grpcurl option $1, which the shim does not know" ;;
      *) if [ -z "$target" ]; then target="$1"; else method="$1"; fi; shift ;;
    esac
  done
  [ "$target" = "localhost:50051" ] || fail "README examples should use localhost:50051, not $target"
  if [ "$list" = 1 ]; then
    bufcurl --list-services "http://$addr"
  else
    [ "$data" = "@" ] && data="@-"
    bufcurl "${schema[@]}" -d "${data:-{\}}" "http://$addr/$method"
  fi
}

readme_block="$(sed -n '/<!-- grpcurl-examples:begin -->/,/<!-- grpcurl-examples:end -->/p' "$src/README.md" \
  | grep -v -e '^```' -e '^<!--' | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')"
[ -n "$readme_block" ] || fail "README.md has no grpcurl-examples block"
ran=0
seen=""
cd "$src"
while IFS= read -r cmd; do
  case "$cmd" in ''|'#'*) continue ;; esac
  out="$(eval "$cmd")" || fail "README example failed: $cmd"
  case "$cmd" in
    *" list"*)          expect "README: list" "$out" skillstore.v1.SkillStore grpc.health.v1.Health; seen="$seen list" ;;
    *"/Enqueue"*)       expect "README: Enqueue" "$out" '"taskIds"'; seen="$seen Enqueue" ;;
    *"/GetProgress"*)   expect "README: GetProgress" "$out" '"total"'; seen="$seen GetProgress" ;;
    *"/ListWorkers"*)   expect "README: ListWorkers" "$out" '"workers"'; seen="$seen ListWorkers" ;;
    *"Health/Check"*)   expect "README: health" "$out" SERVING; seen="$seen Health" ;;
    *)                  echo "ok: README: $cmd" ;;
  esac
  ran=$((ran + 1))
done <<<"$readme_block"
for m in list Enqueue GetProgress ListWorkers; do
  grep -qw "$m" <<<"$seen" || fail "README has no grpcurl example of $m"
done
echo "buf_curl_test: all passed ($ran README examples)"
