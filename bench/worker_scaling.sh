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

source "$here/bench/lib.sh"
bench_init skillstore-scaling
tmp="$bench_dir"

# run CONCURRENCY -> prints tasks/s (details on stderr)
run() {
  local concurrency="$1" mark
  mark="$(bench_mark)"
  # shellcheck disable=SC2086  # SERVER_ARGS is a list of flags
  bench_start_server "$tmp/c$concurrency" ${SERVER_ARGS:-}
  local addr="$server_addr"
  "$bin/worker_bench_client" enqueue --server "$addr" --corpus "$corpus" --count "$tasks" >&2
  "$bin/worker_bench_client" wait --server "$addr" --count "$tasks" >"$tmp/wait-$concurrency" &
  local waiter=$!
  bench_track "$waiter"
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
  bench_stop_since "$mark"
  rm -rf "${tmp:?}/c$concurrency"
  awk -v n="$tasks" '{ for (i = 1; i <= NF; ++i) if ($i == "in") print n / $(i + 1) }' \
      "$tmp/wait-$concurrency"
}

echo "worker scaling: $tasks parse tasks from $corpus on $(nproc) cores" >&2
best() { awk 'BEGIN { m = 0 } { if ($1 > m) m = $1 } END { print m }'; }
for _ in $(seq 1 "${REPEAT:-3}"); do
  run 1 >>"$tmp/ones"
  run 2 >>"$tmp/twos"
done
one="$(best <"$tmp/ones")"
two="$(best <"$tmp/twos")"
printf 'concurrency 1: %.1f tasks/s (best of %s)\n' "$one" "${REPEAT:-3}"
printf 'concurrency 2: %.1f tasks/s (best of %s)\n' "$two" "${REPEAT:-3}"
awk -v a="$one" -v b="$two" 'BEGIN { printf "speed-up: %.2fx\n", b / a }'
# The engine's own ceiling: the same parsing on 1 and 2 threads, no server.
if [[ -x "$bin/skillstore-engine-scaling" ]]; then
  "$bin/skillstore-engine-scaling" --dir "$corpus"
fi
