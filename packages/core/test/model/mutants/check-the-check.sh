#!/usr/bin/env bash
# Checks the model check: applies each deliberately broken variant of core (*.patch here) in turn,
# runs the random-program property until it fails, prints how many programs that took, and
# reverts the patch. Run from anywhere: bash packages/core/test/model/mutants/check-the-check.sh
# A patch that no longer applies (core has moved on) is reported and skipped.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
core="$(cd "$here/../../.." && pwd)"
root="$(git -C "$core" rev-parse --show-toplevel)"
applied=""
revert() { if [ -n "$applied" ]; then git -C "$root" apply -R "$applied"; applied=""; fi; }
trap revert EXIT INT TERM
for patch in "$here"/*.patch; do
  name="$(basename "$patch" .patch)"
  if ! git -C "$root" apply --check "$patch" 2>/dev/null; then
    echo "$name: does not apply to this core any more (skipped)"
    continue
  fi
  git -C "$root" apply "$patch"
  applied="$patch"
  output="$(cd "$core" && LOCK_MODEL_RUNS="${LOCK_MODEL_RUNS:-10000}" npx jest test/model/model-check.test.ts -t 'random programs' 2>&1)"
  found="$(grep -oE 'failed after [0-9]+ tests?' <<<"$output" | head -1)"
  first="$(grep -E '^\s+at [0-9.]+: ' <<<"$output" | head -1 | sed -E 's/^\s+//')"
  echo "$name: ${found:-NOT CAUGHT in ${LOCK_MODEL_RUNS:-10000} programs}${first:+ — $first}"
  revert
done
