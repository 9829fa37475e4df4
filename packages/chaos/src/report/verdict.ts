import type { CheckerName, CheckResult } from '../checkers/types.js';
import type { ScenarioDef } from '../plan/scenario.js';
import type { TargetName } from '../plan/targets.js';
import { KNOWN_FAILURES, type KnownFailure, knownFailure } from './known-failures.js';

/** The judgement of one run. */
export type Verdict = 'pass' | 'known-limit' | 'known-bug' | 'fail' | 'error';

/** How each checker's findings were judged. */
export interface Judged {
  readonly verdict: Verdict;
  /** Per checker with findings: how it was judged and why. */
  readonly notes: readonly { checker: CheckerName; verdict: Verdict; why: string }[];
}

const ORDER: readonly Verdict[] = ['pass', 'known-limit', 'known-bug', 'fail', 'error'];

/**
 * Judges a run: findings a scenario allows on this target (a documented limit) make it
 * `known-limit`; findings listed in `known-failures.ts` (an open issue) make it `known-bug`;
 * any other finding fails it. `known` replaces that list (tests give their own).
 */
export function judge(
  target: TargetName,
  scenario: ScenarioDef,
  results: readonly CheckResult[],
  known: readonly KnownFailure[] = KNOWN_FAILURES,
): Judged {
  const notes: Judged['notes'][number][] = [];
  for (const result of results) {
    if (result.findings.length === 0) continue;
    const limit = scenario.knownLimits?.[target];
    if (limit?.checkers.includes(result.checker)) {
      notes.push({ checker: result.checker, verdict: 'known-limit', why: limit.reason });
      continue;
    }
    const bug = knownFailure(target, scenario.id, result.checker, result.findings, known);
    if (bug !== undefined) {
      notes.push({ checker: result.checker, verdict: 'known-bug', why: bug });
      continue;
    }
    notes.push({
      checker: result.checker,
      verdict: 'fail',
      why: result.findings[0]?.message ?? '',
    });
  }
  return { verdict: worst(notes.map((note) => note.verdict)), notes };
}

/** The worst of some verdicts (`pass` when there are none). */
export function worst(verdicts: readonly Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'pass');
}
