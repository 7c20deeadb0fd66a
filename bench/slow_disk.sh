#!/usr/bin/env bash
# End to end as in compare.sh (N tiny tasks, one producer, 4 skill-workers x 1)
# with every fsync of the server made slow, to see what the server does on a
# disk whose flush takes milliseconds (network block storage, a busy disk)
# rather than this machine's ~1 ms: the WAL's fdatasync runs on the server's
# wal-sync thread while the write loop runs the next transaction
# (server/wal_sync.h), so a slow flush should cost little throughput.
#
#   bench/slow_disk.sh [BUILD_DIR] [DELAY_US] [RUNS] [N]
#   (defaults: build-perf 4000 3 20000)
#   OLD_SERVER=path/to/skillstore-server: alternate each run with that server
#   (an older build, same workers and client) and print its median too.
#
# The delay comes from bench/slow_fsync.cc, preloaded into the server only.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$here/build-perf}" && pwd)"
delay_us="${2:-4000}"
runs="${3:-3}"
n="${4:-20000}"
bin="$build/bin"
shim="$bin/libskillstore_slow_fsync.so"
[[ -f "$shim" ]] || { echo "slow_disk.sh: $shim missing; build the bench targets" >&2; exit 2; }

source "$here/bench/lib.sh"
bench_init skillstore-slow-disk

# A server binary with the shim preloaded: $1 is the real binary.
wrap() {
  local wrapper="$bench_dir/$2"
  printf '#!/bin/sh\nLD_PRELOAD=%s SLOW_FSYNC_US=%s exec %s "$@"\n' "$shim" "$delay_us" "$1" >"$wrapper"
  chmod +x "$wrapper"
  echo "$wrapper"
}

# One end-to-end run against server binary $1; prints tasks/s.
one_run() { bench_e2e_run "$1" "$bin" "$n"; }

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

new_server="$(wrap "$bin/skillstore-server" new-server)"
old_server=""
[[ -n "${OLD_SERVER:-}" ]] && old_server="$(wrap "$(cd "$(dirname "$OLD_SERVER")" && pwd)/$(basename "$OLD_SERVER")" old-server)"
new_rates=() old_rates=()
for ((r = 0; r < runs; ++r)); do
  new_rates+=("$(one_run "$new_server")")
  [[ -n "$old_server" ]] && old_rates+=("$(one_run "$old_server")")
done
echo "every fsync of the server delayed by ${delay_us} us; $n tiny tasks, 4 skill-workers x 1"
echo "skillstore-server ($build): median $(printf '%s\n' "${new_rates[@]}" | median) tasks/s (runs: ${new_rates[*]})"
if [[ -n "$old_server" ]]; then
  echo "OLD_SERVER ($OLD_SERVER): median $(printf '%s\n' "${old_rates[@]}" | median) tasks/s (runs: ${old_rates[*]})"
fi
