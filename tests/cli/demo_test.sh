#!/usr/bin/env bash
# `make demo` end to end, without a terminal (as in CI): it must run to the
# end, complete every sample skill, write the JSON files and leave no
# process behind.
# Env (set by ctest): SKILLSTORE_SRC, SKILLSTORE_BUILD.
set -euo pipefail
src="${SKILLSTORE_SRC:?}"
build="${SKILLSTORE_BUILD:?}"
fail() { echo "demo_test: FAIL: $*" >&2; exit 1; }

out="$(mktemp -d "${TMPDIR:-/tmp}/skillstore-demo-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
log="$out/demo.log"
mkdir -p "$out/tmp"
# TMPDIR marks every process the demo starts (they inherit it), so the check
# below finds exactly this run's processes, not those of another demo.
TMPDIR="$out/tmp" DEMO_OUT="$out/demo-out" bash "$src/examples/demo.sh" "$build" </dev/null >"$log" 2>&1 \
  || { cat "$log"; fail "demo.sh exited non-zero"; }
cat "$log"

nskills="$(find "$src/examples/skills" -name SKILL.md | wc -l)"
[ "$nskills" -ge 12 ] || fail "only $nskills sample skills"
grep -q "success rate 100.0%" "$log" || fail "not every task completed"
grep -q "^failed       0$" "$log" || fail "some tasks failed"
for suffix in skill security validation; do
  n="$(find "$out/demo-out" -name "*-$suffix.json" | wc -l)"
  [ "$n" -eq "$nskills" ] || fail "$n *-$suffix.json files for $nskills skills"
done
# Every validation says the decomposition is valid.
if grep -l '"valid": *false' "$out"/demo-out/*-validation.json; then
  fail "some decompositions do not validate"
fi
# Workers send results compact; export indents them again: every exported
# document is byte for byte what `skillctl parse` writes locally, apart from
# the parse timestamp.
"$build/bin/skillctl" parse -o "$out/local" "$src/examples/skills" >/dev/null
"$build/bin/skillctl" parse -t analyze -o "$out/local" "$src/examples/skills" >/dev/null
n="$(find "$out/local" -name '*.json' | wc -l)"
[ "$n" -eq $((2 * nskills)) ] || fail "skillctl parse wrote $n files for $nskills skills x 2 types"
for local in "$out"/local/*.json; do
  exported="$out/demo-out/$(basename "$local")"
  [ -f "$exported" ] || fail "no exported $(basename "$local")"
  diff <(grep -v '"parse_timestamp"' "$local") <(grep -v '"parse_timestamp"' "$exported") >/dev/null \
    || fail "exported $(basename "$local") differs from skillctl parse's"
done
# Nothing the demo started is still running. Read /proc directly: procps
# (pgrep) is not on every minimal Debian image.
leftover=""
for environ in /proc/[0-9]*/environ; do
  [ "$environ" = "/proc/$$/environ" ] && continue
  if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qxF "TMPDIR=$out/tmp"; then
    leftover="$leftover $({ tr '\0' ' ' <"${environ%/environ}/cmdline"; } 2>/dev/null)"
  fi
done
[ -z "$leftover" ] || fail "processes of the demo are still running:$leftover"
echo "demo_test: passed"
