#!/usr/bin/env bash
# Parallel speed-up of one skill-worker: CPU-bound parsing of the Skill-0
# corpus with --concurrency 1, then 2, each against a fresh server and
# database. Prints tasks/s for each and the ratio.
#
#   bench/worker_scaling.sh [BUILD_DIR] [TASKS] [CORPUS_DIR]
#   (defaults: build, 2000, ../shared/corpus/skill0/skills)
#
# Needs skillstore-server, skill-worker and worker_bench_client in BUILD_DIR/bin.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
tasks="${2:-2000}"
corpus="${3:-$here/../shared/corpus/skill0/skills}"
bin="$build/bin"
for b in skillstore-server skill-worker worker_bench_client; do
  [[ -x "$bin/$b" ]] || { echo "missing $bin/$b (build it first)" >&2; exit 1; }
done
[[ -d "$corpus" ]] || { echo "no corpus at $corpus" >&2; exit 1; }

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# run CONCURRENCY -> prints tasks/s
run() {
  local concurrency="$1" log="$tmp/server-$1.log"
  "$bin/skillstore-server" --listen 127.0.0.1:0 --db "$tmp/bench-$concurrency.db" \
      --log-level warn >"$log" 2>&1 &
  server_pid=$!
  local addr=""
  for _ in $(seq 1 600); do
    addr="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/listening on //')" || true
    [[ -n "$addr" ]] && break
    sleep 0.1
  done
  [[ -n "$addr" ]] || { echo "server did not start:" >&2; cat "$log" >&2; exit 1; }
  "$bin/worker_bench_client" enqueue --server "$addr" --corpus "$corpus" --count "$tasks" >&2
  "$bin/worker_bench_client" wait --server "$addr" --count "$tasks" >"$tmp/wait-$concurrency" &
  local waiter=$!
  "$bin/skill-worker" --server "$addr" --concurrency "$concurrency" --exit-when-idle 2 \
      --worker-id "bench-c$concurrency" --log-level warn 2>"$tmp/worker-$concurrency.log"
  wait "$waiter"
  cat "$tmp/wait-$concurrency" >&2
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  awk -v n="$tasks" '{ for (i = 1; i <= NF; ++i) if ($i == "in") print n / $(i + 1) }' \
      "$tmp/wait-$concurrency"
}

echo "worker scaling: $tasks parse tasks from $corpus on $(nproc) cores" >&2
one="$(run 1)"
two="$(run 2)"
printf 'concurrency 1: %.1f tasks/s\n' "$one"
printf 'concurrency 2: %.1f tasks/s\n' "$two"
awk -v a="$one" -v b="$two" 'BEGIN { printf "speed-up: %.2fx\n", b / a }'
