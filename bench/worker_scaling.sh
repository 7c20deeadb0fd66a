#!/usr/bin/env bash
# Parallel speed-up of one skill-worker: CPU-bound parsing of the Skill-0
# corpus with --concurrency 1, then 2, each against a fresh server and
# database. Prints tasks/s for each and the ratio.
#
#   bench/worker_scaling.sh [BUILD_DIR] [TASKS] [CORPUS_DIR]
#   (defaults: build, 2000, ../shared/corpus/skill0/skills)
#   SERVER_ARGS="..." extra skillstore-server flags (e.g. --synchronous normal).
#   REPEAT=N (default 3): runs of each setting, alternating; the best of
#   each counts, since other load on the machine only ever slows a run.
#
# The server runs on the same machine and shares its cores, so the ceiling
# of the ratio is below 2: see the per-task CPU figures printed for the
# worker and the server. With S the server's and W the worker's CPU per
# task, the ratio is at most 2W / (S + W); the last lines give the same
# parsing with no server at all (skillstore-engine-scaling, when built).
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

# run CONCURRENCY -> prints tasks/s (details on stderr)
run() {
  local concurrency="$1" log="$tmp/server-$1.log"
  "$bin/skillstore-server" --listen 127.0.0.1:0 --db "$tmp/bench-$concurrency.db" ${SERVER_ARGS:-} \
      >"$log" 2>&1 &
  server_pid=$!
  # run() executes in a $(...) subshell, which does not inherit the EXIT
  # trap: give it its own, so no server outlives a failed run.
  trap '[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null' EXIT
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
  /usr/bin/time -f "%U %S" -o "$tmp/cpu-$concurrency" \
    "$bin/skill-worker" --server "$addr" --concurrency "$concurrency" --exit-when-idle 2 \
      --worker-id "bench-c$concurrency" --log-level warn 2>"$tmp/worker-$concurrency.log"
  wait "$waiter"
  local ticks server_cpu
  ticks="$(getconf CLK_TCK)"
  server_cpu="$(awk -v t="$ticks" '{ print ($14 + $15) / t }' "/proc/$server_pid/stat")"
  awk -v n="$tasks" -v s="$server_cpu" -v c="$concurrency" \
      '{ printf "  c=%d: %s; CPU per task: worker %.2f ms, server %.2f ms (enqueue included)\n", c, w, ($1 + $2) * 1000 / n, s * 1000 / n }' \
      w="$(cat "$tmp/wait-$concurrency")" "$tmp/cpu-$concurrency" >&2
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -f "$tmp/bench-$concurrency.db"*
  awk -v n="$tasks" '{ for (i = 1; i <= NF; ++i) if ($i == "in") print n / $(i + 1) }' \
      "$tmp/wait-$concurrency"
}

echo "worker scaling: $tasks parse tasks from $corpus on $(nproc) cores" >&2
best() { awk 'BEGIN { m = 0 } { if ($1 > m) m = $1 } END { print m }'; }
ones=""; twos=""
for _ in $(seq 1 "${REPEAT:-3}"); do
  ones+="$(run 1)"$'\n'
  twos+="$(run 2)"$'\n'
done
one="$(printf '%s' "$ones" | best)"
two="$(printf '%s' "$twos" | best)"
printf 'concurrency 1: %.1f tasks/s (best of %s)\n' "$one" "${REPEAT:-3}"
printf 'concurrency 2: %.1f tasks/s (best of %s)\n' "$two" "${REPEAT:-3}"
awk -v a="$one" -v b="$two" 'BEGIN { printf "speed-up: %.2fx\n", b / a }'
# The engine's own ceiling: the same parsing on 1 and 2 threads, no server.
if [[ -x "$bin/skillstore-engine-scaling" ]]; then
  "$bin/skillstore-engine-scaling" --dir "$corpus"
fi
