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
DEMO_OUT="$out/demo-out" bash "$src/examples/demo.sh" "$build" </dev/null >"$log" 2>&1 \
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
# Nothing the demo started is still running (its processes were children of
# demo.sh, so they would now be orphans holding its temporary folder).
if pgrep -f "skillstore-demo\.|demo-worker-" >/dev/null; then
  pgrep -af "skillstore-demo\.|demo-worker-" >&2
  fail "processes of the demo are still running"
fi
echo "demo_test: passed"
