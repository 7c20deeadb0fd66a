#!/usr/bin/env bash
# skillstore side by side with the job queues a user would pick instead,
# on this machine, in one run:
#
#   * end to end: N tiny tasks (256-byte SKILL.md, unique each) enqueued by
#     one producer and drained by 4 worker processes, for
#       - skillstore  (skillstore-server --synchronous full; 4 skill-worker)
#       - beanstalkd  (-b DIR -f 0: binlog fsynced on every write)
#       - gearmand    (-q libsqlite3: background jobs in its SQLite queue)
#     every worker parses each task with the same skillstore::RunTask(parse)
#     call; peers then delete/complete the job, skill-worker submits the
#     result, which skillstore stores durably (the peers store none);
#   * skillstore enqueue throughput at batch 1 / 100 / 1000 and claim+submit
#     throughput (skillstore-loadgen when it is built);
#   * with FILL_N (1,000,000) tasks queued: server RSS, database size, claim
#     latency p50 / p99;
#   * parse MB/s on one core (skillstore-parse-bench when it is built) and
#     worker scaling: one skill-worker at --concurrency 1 vs 2 on the corpus;
#   * CPU per task of the server and the workers (bench/cpu_per_task.sh), the
#     figure that holds while the machine is shared.
#
# Prints a Markdown table and writes it to bench/RESULTS.md with the machine
# and the date. Every server is started fresh on a fresh directory and
# stopped at the end; nothing is left running.
#
#   bash bench/compare.sh [BUILD_DIR]          (default: build-bench)
#   QUICK=1 bash bench/compare.sh              (small N: a smoke run of a minute)
#
# The end-to-end runs are short (skillstore drains 20,000 tasks in about a
# second), so one run swings with whatever else the machine does: each system
# runs E2E_RUNS times, in rounds (skillstore, beanstalkd, gearmand, then
# again), and the table gives the median of each and every run's figure.
#
# Environment knobs: N (20000), E2E_RUNS (5), WORKERS (4), CONCURRENCY (tasks each worker
# process runs at once, the same for every system: skill-worker --concurrency, the peers'
# workers --threads; default the machine's cores, skill-worker's own default; tables before
# 2026-11-28 used 1; SS_CONCURRENCY is its old name), FILL_N (1000000),
# CLAIM_SAMPLES (2000), SCALING_TASKS (1000), GEARMAN_N (min(N, 5000)),
# SKIP_PEERS=1, SKIP_FILL=1, WORKER_SETTLE_SECONDS (1),
# RESULTS (output file; default bench/RESULTS.md).
# A BUILD_DIR that is not a Release build is not used as is: a Release build
# is configured and built beside it in BUILD_DIR-release.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

if [[ "${QUICK:-0}" == 1 ]]; then
  : "${N:=3000}" "${E2E_RUNS:=1}" "${FILL_N:=50000}" "${CLAIM_SAMPLES:=500}" "${SCALING_TASKS:=200}"
fi
N="${N:-20000}"
E2E_RUNS="${E2E_RUNS:-5}"
WORKERS="${WORKERS:-4}"
CONCURRENCY="${CONCURRENCY:-${SS_CONCURRENCY:-$(nproc)}}"
FILL_N="${FILL_N:-1000000}"
CLAIM_SAMPLES="${CLAIM_SAMPLES:-2000}"
SCALING_TASKS="${SCALING_TASKS:-1000}"
# gearmand moves a few hundred tasks/s: fewer tasks give the same rate and keep
# the run within its time budget.
GEARMAN_N="${GEARMAN_N:-$((N < 5000 ? N : 5000))}"
RESULTS="${RESULTS:-$here/bench/RESULTS.md}"

log() { echo "compare: $*" >&2; }

# Every system's workers get this long to start and connect before its
# producer begins: the clock measures the queue, not process start-up (four
# processes loading their libraries are a tenth of a second of CPU, and
# skillstore's whole run is about a second).
WORKER_SETTLE_SECONDS="${WORKER_SETTLE_SECONDS:-1}"

# --------------------------------------------------------------- packages
# The peers come from Debian packages. `make test` never needs them, so they
# are installed here rather than by deploy/install-deps.sh.
bash deploy/install-deps.sh
peer_packages=(beanstalkd gearman-job-server libgearman-dev)
missing=()
for p in "${peer_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 && "${SKIP_PEERS:-0}" != 1 ]]; then
  log "installing the peers: ${missing[*]}"
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

# ------------------------------------------------------------------ build
build="${1:-build-bench}"
if [[ -f "$build/CMakeCache.txt" ]] &&
   ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  log "$build is not a Release build; using $build-release"
  build="$build-release"
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >&2
else
  # Configured again: a build made before the peers were installed (`make
  # bench` on a fresh machine builds first) has no peer-gearman target, and
  # CMake looks again for a library it did not find.
  cmake -S . -B "$build" >&2
fi
targets=(skillstore-server skill-worker skillstore-bench-client peer-beanstalkd peer-gearman)
# Built by other modules; used when their targets exist.
optional_targets=(skillstore-loadgen skillstore-parse-bench skillstore-engine-scaling)
log "building ${targets[*]} in $build (Release)"
cmake --build "$build" -j "${JOBS:-2}" --target "${targets[@]}" >&2
known_targets="$(cmake --build "$build" --target help 2>/dev/null || true)"
for t in "${optional_targets[@]}"; do
  if grep -q "^$t:" <<<"$known_targets"; then
    cmake --build "$build" -j "${JOBS:-2}" --target "$t" >&2 || log "$t did not build; skipped"
  fi
done
bin="$(cd "$build/bin" && pwd)"

# ------------------------------------------------------ processes, cleanup
source "$here/bench/lib.sh"
bench_init skillstore-compare
work="$bench_dir"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {  # host port
  local _
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.05
  done
  log "nothing listens on $1:$2"
  return 1
}

result_field() {  # file field -> value from the RESULT line
  grep '^RESULT ' "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

declare -A row  # measurement name -> value, for the table

# add_run NAME TASKS_PER_S: one end-to-end run's figure ("failed" when empty),
# kept in row[NAME_runs] ("a, b, c").
add_run() {
  row[$1_runs]+="${row[$1_runs]:+, }${2:-failed}"
}
# The median of the numbers in row[NAME_runs], into row[NAME] (failed runs
# left out; nothing when every run failed).
take_median() {
  row[$1]="$(tr ',' '\n' <<<"${row[$1_runs]:-}" | grep -E '^ *[0-9.]+ *$' | sort -g |
    awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2];
                              else if (NR > 0) print (a[NR / 2] + a[NR / 2 + 1]) / 2 }')"
}

# ------------------------------------------------------- end to end: ours
e2e_skillstore() {
  local dir="$work/e2e-skillstore-$1" mark=$(bench_mark) i
  bench_start_server "$dir"
  for ((i = 0; i < WORKERS; ++i)); do
    "$bin/skill-worker" --server "$server_addr" --concurrency "$CONCURRENCY" \
      --worker-id "bench-$i" --log-level warn >"$dir/worker-$i.log" 2>&1 &
    bench_track $!
  done
  sleep "$WORKER_SETTLE_SECONDS"
  log "skillstore: $N tasks, $WORKERS workers x concurrency $CONCURRENCY"
  timeout 600 "$bin/skillstore-bench-client" e2e --server "$server_addr" --n "$N" --batch 1000 \
    >"$dir/result" 2>"$dir/client.log" || log "skillstore run failed or timed out"
  cat "$dir/client.log" >&2
  add_run e2e_skillstore "$(result_field "$dir/result" tasks_per_s)"
  # The results are durable rows: count them for the record.
  row[e2e_skillstore_rows]+="${row[e2e_skillstore_rows]:+, }$(sqlite3 "$dir/skillstore.db" \
    'SELECT count(*) FROM results' 2>/dev/null || echo '?')"
  bench_stop_since "$mark"
}

# ---------------------------------------------------- end to end: peers
e2e_beanstalkd() {
  local dir="$work/e2e-beanstalkd-$1" mark=$(bench_mark) port i
  mkdir -p "$dir/binlog"
  port="$(free_port)"
  beanstalkd -l 127.0.0.1 -p "$port" -b "$dir/binlog" -f 0 >"$dir/server.log" 2>&1 &
  bench_track $!
  wait_port 127.0.0.1 "$port"
  for ((i = 0; i < WORKERS; ++i)); do
    "$bin/peer-beanstalkd" --port "$port" work --threads "$CONCURRENCY" \
      >"$dir/worker-$i.log" 2>&1 &
    bench_track $!
  done
  sleep "$WORKER_SETTLE_SECONDS"
  log "beanstalkd: $N tasks, $WORKERS workers x $CONCURRENCY threads"
  timeout 600 "$bin/peer-beanstalkd" --port "$port" produce --n "$N" >"$dir/result" \
    2>"$dir/client.log" || log "beanstalkd run failed or timed out"
  cat "$dir/client.log" >&2
  add_run e2e_beanstalkd "$(result_field "$dir/result" tasks_per_s)"
  bench_stop_since "$mark"
}

e2e_gearmand() {
  local dir="$work/e2e-gearmand-$1" mark=$(bench_mark) port i
  mkdir -p "$dir"
  port="$(free_port)"
  gearmand -L 127.0.0.1 -p "$port" -q libsqlite3 --libsqlite3-db "$dir/queue.db" \
    --log-file "$dir/gearmand.log" >"$dir/server.log" 2>&1 &
  bench_track $!
  wait_port 127.0.0.1 "$port"
  for ((i = 0; i < WORKERS; ++i)); do
    "$bin/peer-gearman" --port "$port" work --threads "$CONCURRENCY" \
      >"$dir/worker-$i.log" 2>&1 &
    bench_track $!
  done
  sleep "$WORKER_SETTLE_SECONDS"
  log "gearmand: $GEARMAN_N tasks, $WORKERS workers x $CONCURRENCY threads"
  timeout 600 "$bin/peer-gearman" --port "$port" produce --n "$GEARMAN_N" >"$dir/result" \
    2>"$dir/client.log" || log "gearmand run failed or timed out"
  cat "$dir/client.log" >&2
  add_run e2e_gearmand "$(result_field "$dir/result" tasks_per_s)"
  bench_stop_since "$mark"
}

# ------------------------------------------- enqueue and claim+submit rates
rates_skillstore() {
  local dir="$work/rates" mark=$(bench_mark) b n
  bench_start_server "$dir"
  for b in 1 100 1000; do
    # Enough calls at each batch size for a steady figure, a few seconds each.
    case "$b" in 1) n=$((N / 4 > 2000 ? 2000 : N / 4));; 100) n=$((N));; *) n=$((N * 5));; esac
    "$bin/skillstore-bench-client" enqueue --server "$server_addr" --n "$n" --batch "$b" \
      >"$dir/enqueue-$b" 2>&1
    row[enqueue_$b]="$(result_field "$dir/enqueue-$b" tasks_per_s)"
    log "enqueue batch $b: ${row[enqueue_$b]} tasks/s"
  done
  bench_stop_since "$mark"
  row[claim_submit]="n/a (skillstore-loadgen not built)"
  if [[ -x "$bin/skillstore-loadgen" ]]; then
    dir="$work/loadgen"
    bench_start_server "$dir"
    # Its own report is kept verbatim in RESULTS.md.
    "$bin/skillstore-loadgen" --server "$server_addr" --batch1-tasks $((N / 10)) --batch-tasks "$N" \
      >"$dir/out" 2>&1 || log "skillstore-loadgen failed"
    cat "$dir/out" >&2
    row[loadgen]="$(cat "$dir/out")"
    # "claim(10)+submit, 8 clients   22000 tasks in 6.65 s = 3309 tasks/s"
    row[claim_submit]="$(awk '/^claim/ { for (i = 2; i <= NF; ++i) if ($i == "tasks/s") {
        sub(/,.*/, "", $1); printf "%s tasks/s (%s, %s clients)", $(i - 1), $1, $2 } }' "$dir/out")"
    bench_stop_since "$mark"
  fi
}

# ------------------------------------------------------------ 1M queued
fill_skillstore() {
  local dir="$work/fill" mark=$(bench_mark)
  bench_start_server "$dir"
  log "filling the queue with $FILL_N tasks"
  timeout 900 "$bin/skillstore-bench-client" enqueue --server "$server_addr" --n "$FILL_N" \
    --batch 1000 >"$dir/fill" 2>&1 || log "filling the queue failed or timed out"
  row[fill_rate]="$(result_field "$dir/fill" tasks_per_s)"
  sleep 1  # let the server settle (a checkpoint may be running)
  timeout 300 "$bin/skillstore-bench-client" claim-latency --server "$server_addr" \
    --samples "$CLAIM_SAMPLES" >"$dir/claim" 2>&1 || log "claim latency run failed"
  row[claim_p50]="$(grep -o 'p50_ms=[0-9.]*' "$dir/claim" | cut -d= -f2)"
  row[claim_p99]="$(grep -o 'p99_ms=[0-9.]*' "$dir/claim" | cut -d= -f2)"
  row[rss_mb]="$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")"
  row[hwm_mb]="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")"
  row[db_mb]="$(du -cm "$dir"/skillstore.db* | awk '/total/ { print $1 }')"
  bench_stop_since "$mark"
}

# ------------------------------------------------- parsing and scaling
parse_and_scaling() {
  row[parse_mbps]="n/a (skillstore-parse-bench not built)"
  if [[ -x "$bin/skillstore-parse-bench" ]]; then
    "$bin/skillstore-parse-bench" >"$work/parse-bench" 2>&1 || log "skillstore-parse-bench failed"
    cat "$work/parse-bench" >&2
    row[parse_mbps]="$(grep -io '[0-9.]* *MB/s' "$work/parse-bench" | head -1 | grep -o '^[0-9.]*' || echo '?')"
  fi
  # Worker scaling: one skill-worker with --concurrency 1, then 2, each on a
  # fresh server, parsing the real corpus (CPU-bound).
  local corpus="$here/../shared/corpus/skill0/skills" c dir mark
  [[ -d "$corpus" ]] || corpus="$here/examples/skills"
  local files repeat
  files="$(find "$corpus" -name SKILL.md | wc -l)"
  repeat=$(( (SCALING_TASKS + files - 1) / files ))
  row[scaling_tasks]=$((files * repeat))
  for c in 1 2; do
    dir="$work/scaling-$c"
    mark=$(bench_mark)
    bench_start_server "$dir"
    "$bin/skill-worker" --server "$server_addr" --concurrency "$c" --worker-id "scaling-c$c" \
      --log-level warn >"$dir/worker.log" 2>&1 &
    bench_track $!
    timeout 600 "$bin/skillstore-bench-client" corpus --server "$server_addr" --dir "$corpus" \
      --repeat "$repeat" --label "concurrency-$c" >"$dir/result" 2>"$dir/client.log" ||
      log "scaling run at concurrency $c failed or timed out"
    row[scaling_$c]="$(result_field "$dir/result" tasks_per_s)"
    log "worker scaling: concurrency $c: ${row[scaling_$c]} tasks/s"
    bench_stop_since "$mark"
  done
  row[scaling]="$(awk -v a="${row[scaling_2]:-}" -v b="${row[scaling_1]:-}" 'BEGIN {
    if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "n/a" }')"
  # The same parsing with no server on the cores: the engine's own ceiling.
  row[engine_scaling]="n/a (skillstore-engine-scaling not built)"
  if [[ -x "$bin/skillstore-engine-scaling" ]]; then
    "$bin/skillstore-engine-scaling" --dir "$corpus" >"$work/engine-scaling" 2>&1 ||
      log "skillstore-engine-scaling failed"
    cat "$work/engine-scaling" >&2
    row[engine_scaling]="$(awk '/1 thread:/ { a = $3 } /2 threads:/ { b = $3 }
      END { if (a > 0) printf "%s / %s skills/s, speed-up %.2fx", a, b, b / a; else print "?" }' \
      "$work/engine-scaling")"
  fi
}

# ------------------------------------------- CPU per task (shared-machine proof)
# User + system CPU of the server and the workers per task, from
# /proc/<pid>/stat: unlike tasks/s it barely moves with other load.
cpu_per_task() {
  local line
  row[cpu]=""
  for args in "tiny $N $WORKERS $CONCURRENCY" "corpus $SCALING_TASKS 1 1" \
              "corpus $SCALING_TASKS 1 2"; do
    # shellcheck disable=SC2086
    line="$(bash "$here/bench/cpu_per_task.sh" "$build" $args 2>&1 | tail -1)" ||
      line="cpu_per_task.sh $args failed"
    log "$line"
    row[cpu]+="$line"$'\n'
  done
}

# ------------------------------------------------------------------- run
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
load_start="$(cut -d" " -f1-3 /proc/loadavg)"
t0=$SECONDS
# `sync` before each run: every system starts with the disk idle, not behind
# the writeback of the run before it (all three wait on fsync).
for ((run = 1; run <= E2E_RUNS; ++run)); do
  sync
  e2e_skillstore "$run"
  if [[ "${SKIP_PEERS:-0}" != 1 ]]; then
    sync
    e2e_beanstalkd "$run"
    sync
    e2e_gearmand "$run"
  fi
done
for name in e2e_skillstore e2e_beanstalkd e2e_gearmand; do take_median "$name"; done
rates_skillstore
[[ "${SKIP_FILL:-0}" == 1 ]] || fill_skillstore
parse_and_scaling
cpu_per_task

ratio() {  # a b -> a/b with 1 decimal, or n/a
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else printf "n/a" }'
}
v() { echo "${row[$1]:-n/a}"; }
verdict() {  # value op target
  awk -v x="${1:-}" -v op="$2" -v t="$3" 'BEGIN {
    if (x == "" || x == "n/a" || x + 0 != x) { print "n/a"; exit }
    ok = (op == ">=") ? (x + 0 >= t) : (x + 0 <= t); print ok ? "met" : "MISSED" }'
}
r_bs="$(ratio "$(v e2e_skillstore)" "$(v e2e_beanstalkd)")"
r_gm="$(ratio "$(v e2e_skillstore)" "$(v e2e_gearmand)")"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
table="$(cat <<EOF
| measurement | value | target |
|---|---|---|
| end to end, skillstore ($WORKERS skill-worker x concurrency $CONCURRENCY, --synchronous full) | $(v e2e_skillstore) tasks/s (median; runs of $N: $(v e2e_skillstore_runs); result rows: $(v e2e_skillstore_rows)) | |
| end to end, beanstalkd (-b -f 0, $WORKERS workers x $CONCURRENCY threads) | $(v e2e_beanstalkd) tasks/s (median; runs of $N: $(v e2e_beanstalkd_runs)) | |
| end to end, gearmand (-q libsqlite3, $WORKERS workers x $CONCURRENCY threads) | $(v e2e_gearmand) tasks/s (median; runs of $GEARMAN_N: $(v e2e_gearmand_runs)) | |
| ratio skillstore / beanstalkd | $r_bs | >= 10x: $(verdict "${r_bs%x}" ">=" 10) |
| ratio skillstore / gearmand | $r_gm | >= 40x: $(verdict "${r_gm%x}" ">=" 40) |
| enqueue, batch 1 (one client) | $(v enqueue_1) tasks/s | |
| enqueue, batch 100 | $(v enqueue_100) tasks/s | |
| enqueue, batch 1000 | $(v enqueue_1000) tasks/s | |
| claim+submit (skillstore-loadgen) | $(v claim_submit) | |
| queue filled to $FILL_N (batch 1000) | $(v fill_rate) tasks/s | |
| server RSS with $FILL_N queued (peak) | $(v rss_mb) MB ($(v hwm_mb) MB) | <= 150 MB: $(verdict "$(v hwm_mb)" "<=" 150) |
| database size with $FILL_N queued (db + wal) | $(v db_mb) MB | |
| claim latency p50 / p99 ($CLAIM_SAMPLES claims, 1 task, wait 0) | $(v claim_p50) / $(v claim_p99) ms | p99 <= 5 ms: $(verdict "$(v claim_p99)" "<=" 5) |
| parse throughput, one core | $(v parse_mbps) MB/s | |
| worker scaling, one skill-worker, --concurrency 1 / 2 ($(v scaling_tasks) corpus parse tasks) | $(v scaling_1) / $(v scaling_2) tasks/s, speed-up $(v scaling) | >= 1.8x |
| engine alone, 1 / 2 threads, no server (skillstore-engine-scaling) | $(v engine_scaling) | |
EOF
)"

report="$(cat <<EOF
# skillstore benchmark results

Generated by \`bash bench/compare.sh\` (N=$N, E2E_RUNS=$E2E_RUNS, WORKERS=$WORKERS,
CONCURRENCY=$CONCURRENCY, FILL_N=$FILL_N) on $started, in $((SECONDS - t0)) s.

Machine: $(nproc) cores, $cpu, Linux $(uname -r), $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, load average at the start $load_start (the machine is shared: fsync-bound figures move with other load);
database and binlogs on $(df -T "$work" | awk 'NR == 2 { print $2 }') under $(dirname "$work").

$table

How the end-to-end figures are made (bench/peers/): each system is started fresh on an empty
directory; its $WORKERS worker processes (each running $CONCURRENCY task(s) at once: skill-worker
--concurrency, the peers' workers a thread and a connection per task) are started and given
${WORKER_SETTLE_SECONDS} s to connect; one producer then enqueues $N
unique 256-byte SKILL.md tasks and the clock runs from its first enqueue until the server reports
every task finished. Each system does this $E2E_RUNS times, in rounds with the others; the
table gives the median and every run (ratios are of the medians). Every worker, ours and the
peers', runs the same
\`skillstore::RunTask(parse)\` on each task. The peers' workers then delete the job (beanstalkd,
\`delete\` after \`reserve\`) or complete it (gearmand, WORK_COMPLETE of a background job) and
drop the result; skill-worker streams the result JSON back (claims and results in batches:
auto prefetch, several results per stream message) and skillstore stores each in its
\`results\` table before acknowledging it. Producers: skillstore enqueues batches of 1000 (one RPC
each); beanstalkd's producer pipelines its \`put\`s (64 in flight); gearmand's submits background
jobs in pipelined rounds of 100. Durability: skillstore --synchronous full (every ack after
the fsync of the WAL covering its commit, made on the server's wal-sync thread), beanstalkd \`-f 0\` (fsync on every write), gearmand's SQLite queue (insert before
JOB_CREATED).
EOF
)"
report+=$'\n\nCPU per task (bench/cpu_per_task.sh: server and worker processes, user + system):\n\n```\n'"${row[cpu]}"'```'
if [[ -n "${row[loadgen]:-}" ]]; then
  report+=$'\n\nskillstore-loadgen output:\n\n```\n'"${row[loadgen]}"$'\n```'
fi

echo "$table"
echo "$report" >"$RESULTS"
log "wrote $RESULTS"
