#!/usr/bin/env bash
# CPU time per task of the server and of the workers, end to end: the figure
# to optimise against while the machine is shared (wall-clock tasks/s moves
# with other load; user+system CPU per task barely does).
#
#   bench/cpu_per_task.sh [BUILD_DIR] [tiny|corpus] [N] [WORKERS] [CONCURRENCY]
#   (defaults: build-perf tiny 20000 4 1)
#   PERF=1: also `perf record -g` the server for the run (perf.data in $PERF_OUT,
#   default /tmp/skillstore-perf) and print the top of `perf report`.
#   PERF_ARGS: the server's perf record options instead of -g, e.g.
#   "--call-graph dwarf,8192 -F 1000" for whole stacks through libsqlite3 and
#   libc, which have no frame pointers.
#   SERVER_ARGS / WORKER_ARGS: extra flags.
#
# Prints tasks/s, and server / worker / total CPU microseconds per task
# (utime + stime from /proc/<pid>/stat, taken after the last task finished;
# the server's figure includes the producer's enqueues and the client's
# progress polling).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$here/build-perf}" && pwd)"
kind="${2:-tiny}"
n="${3:-20000}"
workers="${4:-4}"
concurrency="${5:-1}"
bin="$build/bin"
corpus="$here/../shared/corpus/skill0/skills"

source "$here/bench/lib.sh"
bench_init skillstore-cpu
tmp="$bench_dir"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Context switches (voluntary + involuntary) of every thread of a process.
ctx_switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# shellcheck disable=SC2086  # SERVER_ARGS is a list of flags
bench_start_server "$tmp" ${SERVER_ARGS:-}
server="$server_pid"
addr="$server_addr"

worker_pids=()
for ((i = 0; i < workers; ++i)); do
  "${WORKER_BIN:-$bin/skill-worker}" --server "$addr" --concurrency "$concurrency" --worker-id "cpu-$i" \
    --log-level warn ${WORKER_ARGS:-} >"$tmp/worker-$i.log" 2>&1 &
  bench_track $!
  worker_pids+=($!)
done
sleep 0.5
server0="$(cpu_ticks "$server")"
sctx0="$(ctx_switches "$server")"
workers0=0
wctx0=0
for p in "${worker_pids[@]}"; do
  workers0=$((workers0 + $(cpu_ticks "$p")))
  wctx0=$((wctx0 + $(ctx_switches "$p")))
done

perf_pid=""
if [[ "${PERF:-0}" == 1 ]]; then
  out="${PERF_OUT:-/tmp/skillstore-perf}"
  mkdir -p "$out"
  perf record ${PERF_ARGS:--g} -o "$out/server.data" -p "$server" >/dev/null 2>&1 &
  perf_pid=$!
  perf record -g -o "$out/worker.data" -p "${worker_pids[0]}" >/dev/null 2>&1 &
  perf_wpid=$!
fi

if [[ "$kind" == corpus ]]; then
  files="$(find "$corpus" -name SKILL.md | wc -l)"
  repeat=$(( (n + files - 1) / files ))
  n=$((files * repeat))
  "$bin/skillstore-bench-client" corpus --server "$addr" --dir "$corpus" --repeat "$repeat" \
    --label cpu >"$tmp/result" 2>"$tmp/client.log"
else
  "$bin/skillstore-bench-client" e2e --server "$addr" --n "$n" --batch 1000 >"$tmp/result" \
    2>"$tmp/client.log"
fi
server1="$(cpu_ticks "$server")"
sctx1="$(ctx_switches "$server")"
workers1=0
wctx1=0
for p in "${worker_pids[@]}"; do
  workers1=$((workers1 + $(cpu_ticks "$p")))
  wctx1=$((wctx1 + $(ctx_switches "$p")))
done
if [[ -n "$perf_pid" ]]; then
  kill -INT "$perf_pid" "$perf_wpid"; wait "$perf_pid" "$perf_wpid" 2>/dev/null || true
fi

hz="$(getconf CLK_TCK)"
tps="$(grep '^RESULT ' "$tmp/result" | tr ' ' '\n' | sed -n 's/^tasks_per_s=//p')"
awk -v n="$n" -v hz="$hz" -v s="$((server1 - server0))" -v w="$((workers1 - workers0))" \
    -v tps="$tps" -v kind="$kind" -v wk="$workers" -v c="$concurrency" \
    -v sx="$((sctx1 - sctx0))" -v wx="$((wctx1 - wctx0))" 'BEGIN {
  su = s * 1e6 / hz / n; wu = w * 1e6 / hz / n
  printf "%s: %d tasks, %d workers x %d: %s tasks/s; CPU per task: server %.0f us, workers %.0f us, total %.0f us; context switches per task: server %.1f, workers %.1f\n",
         kind, n, wk, c, tps, su, wu, su + wu, sx / n, wx / n }'
if [[ -n "$perf_pid" ]]; then
  perf report -i "$out/server.data" --no-children --sort dso,sym --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | grep '%' | head -40 >"$out/server.top" || true
  echo "perf: $out/server.data, $out/worker.data (top: $out/server.top)"
fi
