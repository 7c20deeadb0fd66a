#!/usr/bin/env bash
# make demo: the whole system on one machine, end to end.
#
#   server (temporary database) + 3 workers  <-  skillctl enqueue examples/skills/
#   -> live progress (skillctl watch) -> statistics -> JSON files in ./demo-out/
#
# Usage: examples/demo.sh [BUILD_DIR]   (the Makefile passes build/)
# Env:   DEMO_OUT (default ./demo-out), DEMO_WORKERS (3), DEMO_CONCURRENCY (2),
#        DEMO_TIMEOUT seconds (600).
# Works without a terminal (CI, pipes): the live view then prints a line
# every two seconds. Every process it starts is stopped on exit, also on ^C.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build_dir="${1:-$root/build}"
bin="$(cd "$build_dir" && pwd)/bin"
out_dir="${DEMO_OUT:-$PWD/demo-out}"
workers="${DEMO_WORKERS:-3}"
concurrency="${DEMO_CONCURRENCY:-2}"
timeout="${DEMO_TIMEOUT:-600}"
skills="$root/examples/skills"

for b in skillstore-server skill-worker skillctl; do
  if [ ! -x "$bin/$b" ]; then
    echo "demo: $bin/$b is missing; build first (make build)" >&2
    exit 1
  fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/skillstore-demo.XXXXXX")"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # SIGTERM first: workers drain and the server checkpoints its WAL.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    echo "demo: failed (exit $rc); logs were in $work:" >&2
    tail -n 20 "$work"/*.log >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }

step "Starting skillstore-server on a temporary database ($work/skillstore.db)"
"$bin/skillstore-server" --listen 127.0.0.1:0 --db "$work/skillstore.db" \
  --metrics-listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
pids+=($!)
address=""
for _ in $(seq 300); do
  address="$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work/server.log" | head -n1)"
  [ -n "$address" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: the server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "demo: the server did not start within 30 s" >&2; exit 1; }
echo "server listening on $address"
metrics="$(sed -n 's/.*metrics at \(http:[^ "]*\).*/\1/p' "$work/server.log" | head -n1)"
echo "Prometheus metrics at $metrics (during the run: curl -s $metrics | grep ^skillstore_tasks)"
export SKILLSTORE_SERVER="$address"
skillctl() { "$bin/skillctl" "$@"; }

nskills="$(find "$skills" -name SKILL.md | wc -l)"
step "Enqueueing $nskills sample skills from examples/skills/ (parse + analyze)"
skillctl enqueue --type parse --idempotent "$skills"
skillctl enqueue --type analyze --idempotent "$skills"

step "Starting $workers workers (--concurrency $concurrency each)"
start="$(date +%s.%N)"
for i in $(seq "$workers"); do
  "$bin/skill-worker" --server "$address" --concurrency "$concurrency" \
    --worker-id "demo-worker-$i" --exit-when-idle 60 >"$work/worker-$i.log" 2>&1 &
  pids+=($!)
done

step "Progress"
skillctl watch
wait_rc=0
skillctl wait --timeout "$timeout" || wait_rc=$?

step "Exporting the results"
mkdir -p "$out_dir"
# Only files an earlier demo wrote are removed; anything else in the folder stays.
find "$out_dir" -maxdepth 1 -type f \
  \( -name '*-skill.json' -o -name '*-security.json' -o -name '*-validation.json' \) -delete
skillctl export --out "$out_dir"

step "Validating the decompositions against the Skill-0 schema (validate tasks)"
skillctl enqueue --type validate --idempotent "$out_dir"/*-skill.json
skillctl wait --timeout "$timeout" || wait_rc=$?
end="$(date +%s.%N)"
skillctl export --type validate --out "$out_dir" >/dev/null

step "Metrics ($metrics)"
python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
for line in text.splitlines():
    if line.startswith(("skillstore_tasks{", "skillstore_tasks_completed_total",
                        "skillstore_tasks_failed_total", "skillstore_commit_batch_size_count")):
        print(line)
' "$metrics" || echo "demo: could not read $metrics" >&2

step "Workers"
skillctl workers

step "Statistics"
skillctl -o json progress | python3 -c '
import json, sys
p = json.load(sys.stdin)
elapsed = max(float(sys.argv[2]) - float(sys.argv[1]), 1e-3)
total, completed, failed = p["total"], p["completed"], p["failed"]
done = completed + failed
rate = 100.0 * completed / total if total else 0.0
print("total        %d" % total)
print("completed    %d" % completed)
print("failed       %d" % failed)
print("cancelled    %d" % p["cancelled"])
print("success rate %.1f%%" % rate)
print("throughput   %.1f tasks/s (%d tasks in %.1f s, %s workers)" % (done / elapsed, done, elapsed, sys.argv[3]))
' "$start" "$end" "$workers"

nskill=$(find "$out_dir" -maxdepth 1 -name '*-skill.json' | wc -l)
nsec=$(find "$out_dir" -maxdepth 1 -name '*-security.json' | wc -l)
nval=$(find "$out_dir" -maxdepth 1 -name '*-validation.json' | wc -l)
echo
echo "JSON written to $out_dir/:"
echo "  $nskill decompositions (*-skill.json), $nsec security reports (*-security.json),"
echo "  $nval schema validations (*-validation.json)"
if [ "$wait_rc" -ne 0 ]; then
  echo "demo: some tasks did not complete (skillctl wait exit $wait_rc)" >&2
  skillctl tasks --status failed >&2 || true
  exit "$wait_rc"
fi
echo "demo: done; all servers and workers are stopped on exit."
