import type { CheckerName } from '../checkers/types.js';
import type { TargetName } from '../plan/targets.js';

/**
 * Findings the suite makes on today's code because of a bug that is reported and being fixed
 * (issue #8). A run with only these is `known-bug`, not `fail`, so the smoke set in CI stays
 * meaningful while the fixes are under way. Remove an entry when its fix merges: the suite then
 * guards against the bug coming back. Each entry: where it shows, which checker sees it, and
 * the issue item.
 */
interface KnownFailure {
  readonly targets: readonly TargetName[] | 'all';
  readonly scenarios: readonly string[] | 'all';
  readonly checker: CheckerName;
  readonly issue: string;
}

const KNOWN: readonly KnownFailure[] = [];

/** The issue behind a finding of `checker` in `scenario` on `target`, if it is a known one. */
export function knownFailure(
  target: TargetName,
  scenario: string,
  checker: CheckerName,
): string | undefined {
  const entry = KNOWN.find(
    (k) =>
      k.checker === checker &&
      (k.targets === 'all' || k.targets.includes(target)) &&
      (k.scenarios === 'all' || k.scenarios.includes(scenario)),
  );
  return entry?.issue;
}
