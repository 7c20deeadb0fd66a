#!/usr/bin/env bash
# Two builds, or one build with two sets of flags, compared end to end as in
# compare.sh (N tiny tasks, one producer, 4 skill-workers x 1) in alternating
# pairs: A, B, A, B, ... The host's speed moves by a fifth within minutes, so
# medians of runs made at different times hide changes of a few percent; the
# ratio B/A of runs made one after the other does not. Prints every pair,
# then the median and quartiles of the ratios.
#
#   bench/ab_pairs.sh BIN_A BIN_B [PAIRS] [N]      (defaults: 12 pairs, N 20000)
#
# BIN_A and BIN_B are folders holding skillstore-server, skill-worker and
# skillstore-bench-client (a build's bin/, or copies of older binaries).
# SERVER_ARGS_A / SERVER_ARGS_B and WORKER_ARGS_A / WORKER_ARGS_B add flags to
# one side, e.g. WORKER_ARGS_B="--prefetch 512" with the same folder twice.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
[[ $# -ge 2 ]] || { sed -n '2,16p' "$0" >&2; exit 2; }
bin_a="$(cd "$1" && pwd)"
bin_b="$(cd "$2" && pwd)"
pairs="${3:-12}"
n="${4:-20000}"

source "$here/bench/lib.sh"
bench_init skillstore-ab-pairs

# One end-to-end run of the binaries in $1 (server flags $2, worker flags
# $3); prints tasks/s.
one_run() {
  local rate
  rate="$(bench_e2e_run "$1/skillstore-server" "$1" "$n" "$2" "$3")"
  [[ -n "$rate" ]] || { echo "ab_pairs.sh: a run failed (binaries in $1)" >&2; exit 1; }
  echo "$rate"
}

ratios=()
for ((p = 1; p <= pairs; ++p)); do
  a="$(one_run "$bin_a" "${SERVER_ARGS_A:-}" "${WORKER_ARGS_A:-}")"
  b="$(one_run "$bin_b" "${SERVER_ARGS_B:-}" "${WORKER_ARGS_B:-}")"
  ratio="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
  ratios+=("$ratio")
  echo "pair $p: A $a  B $b tasks/s  B/A $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -g | awk -v n="$n" '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "B/A over %d pairs of %d tasks: median %.3f (quartiles %.3f, %.3f)\n",
         NR, n, m, v[int(NR / 4) + 1], v[int(3 * NR / 4)] }'
