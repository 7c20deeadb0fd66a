# Shared by the bench scripts (sourced, not run): a work directory and the
# processes started in it, both gone when the script exits however it ends,
# a skillstore-server started on a fresh database, and one end-to-end run.
#
#   source "$here/bench/lib.sh"
#   bench_init skillstore-cpu          # $bench_dir, cleanup on exit
#   bench_start_server "$bench_dir/s"  # $server_addr, $server_pid
#   some-client & bench_track $!
#   mark=$(bench_mark); ...; bench_stop_since "$mark"
#   rate=$(bench_e2e_run SERVER_BINARY BIN_DIR N)   # tasks/s
#
# The server binary is $SERVER_BIN when set (to measure an older build),
# else $bin/skillstore-server; the caller sets `bin`.

bench_pids=()
bench_dir=""

# Makes a fresh work directory ($bench_dir, under $TMPDIR or /var/tmp, named
# after $1) and arranges for it and every tracked process to go on exit.
bench_init() {
  bench_dir="$(mktemp -d "${TMPDIR:-/var/tmp}/$1.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_track() { bench_pids+=("$@"); }

# The number of processes tracked so far: pass it to bench_stop_since.
bench_mark() { echo "${#bench_pids[@]}"; }

# Stops (TERM, then waits for) the processes tracked since mark $1.
bench_stop_since() {
  local mark="$1" i
  for ((i = mark; i < ${#bench_pids[@]}; ++i)); do kill "${bench_pids[i]}" 2>/dev/null || true; done
  for ((i = mark; i < ${#bench_pids[@]}; ++i)); do wait "${bench_pids[i]}" 2>/dev/null || true; done
  bench_pids=("${bench_pids[@]:0:mark}")
}

bench_cleanup() {
  bench_stop_since 0
  [[ -n "$bench_dir" ]] && rm -rf "$bench_dir"
}

# Starts skillstore-server on a fresh database DIR/skillstore.db (log in
# DIR/server.log) with any further arguments as flags, and waits until it
# listens: sets server_pid and server_addr (127.0.0.1:PORT). Returns 1, with
# the log on stderr, when it exits or does not listen within a minute.
bench_start_server() {
  local dir="$1" _
  shift
  mkdir -p "$dir"
  "${SERVER_BIN:-$bin/skillstore-server}" --listen 127.0.0.1:0 --db "$dir/skillstore.db" \
    --log-level info "$@" >"$dir/server.log" 2>&1 &
  server_pid=$!
  bench_track "$server_pid"
  server_addr=""
  for _ in $(seq 1 600); do
    server_addr="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/server.log" 2>/dev/null |
                   head -1 | sed 's/listening on //')" || true
    [[ -n "$server_addr" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "skillstore-server did not start:" >&2
  cat "$dir/server.log" >&2
  return 1
}

# One end-to-end run as in compare.sh: the server binary $1 (flags $4), four
# skill-workers x 1 (flags $5) and the client from the folder $2, $3 tiny
# tasks enqueued by one producer. Prints tasks/s; nothing when the run
# failed. Each run gets a fresh database, removed afterwards.
bench_e2e_run() {
  local server="$1" bin_dir="$2" n="$3" mark dir i rate
  mark="$(bench_mark)"
  dir="$(mktemp -d "$bench_dir/run.XXXX")"
  # shellcheck disable=SC2086  # the flags are meant to split
  SERVER_BIN="$server" bench_start_server "$dir" ${4:-}
  for i in 1 2 3 4; do
    # shellcheck disable=SC2086
    "$bin_dir/skill-worker" --server "$server_addr" --concurrency 1 --worker-id "e2e-$i" \
      --log-level warn ${5:-} >"$dir/worker-$i.log" 2>&1 &
    bench_track $!
  done
  sleep 1
  rate="$("$bin_dir/skillstore-bench-client" e2e --server "$server_addr" --n "$n" --batch 1000 \
            2>/dev/null | sed -n 's/.*tasks_per_s=//p')"
  bench_stop_since "$mark"
  rm -rf "$dir"
  echo "$rate"
}
