#!/usr/bin/env bash
# What a full queue does to one client's latency: an end-to-end run as in
# compare.sh (N tiny tasks, one producer, 4 skill-workers x 1), and beside it
# a probe that enqueues one task every 5 ms and times each call. Prints the
# probe's p50 / p99 / p99.9 / max per run; a pause of the write loop (such as
# the checkpoint remainder, server/checkpointer.h) shows in the max.
#
#   bench/latency_under_load.sh [BUILD_DIR] [RUNS] [N]   (defaults: build-perf 3 100000)
#   SERVER_BIN=path/to/skillstore-server: measure that server (an older build)
#   with this build's workers and clients.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$here/build-perf}" && pwd)"
runs="${2:-3}"
n="${3:-100000}"
bin="$build/bin"
source "$here/bench/lib.sh"
bench_init skillstore-latency

for ((run = 1; run <= runs; ++run)); do
  mark="$(bench_mark)"
  dir="$(mktemp -d "$bench_dir/run.XXXX")"
  bench_start_server "$dir"
  for i in 1 2 3 4; do
    "$bin/skill-worker" --server "$server_addr" --concurrency 1 --worker-id "load-$i" \
      --log-level warn >"$dir/worker-$i.log" 2>&1 &
    bench_track $!
  done
  sleep 1
  "$bin/skillstore-bench-client" e2e --server "$server_addr" --n "$n" --batch 1000 \
    >"$dir/load.out" 2>/dev/null &
  load=$!
  bench_track "$load"
  sleep 0.3  # the queue fills first
  probe="$("$bin/skillstore-bench-client" enqueue-latency --server "$server_addr" --seconds 4 \
             --interval-ms 5)"
  wait "$load" || true
  echo "run $run: $probe | load: $(sed -n 's/.*tasks_per_s=/tasks_per_s=/p' "$dir/load.out")"
  bench_stop_since "$mark"
  rm -rf "$dir"
done
