import type { CheckerName, CheckResult } from '../checkers/types.js';

/** A checker's figures from a run's results (empty when it did not run). */
export function figuresOf(
  results: readonly CheckResult[],
  checker: CheckerName,
): Readonly<Record<string, number>> {
  return results.find((r) => r.checker === checker)?.figures ?? {};
}

/** Findings of `checker` in a run's results. */
export function findingsOf(results: readonly CheckResult[], checker: CheckerName): number {
  return results.find((r) => r.checker === checker)?.findings.length ?? 0;
}

/** Milliseconds, short: `840 ms`, `2.4 s`. */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return Math.abs(value) >= 1_000 ? `${(value / 1_000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** The figures of a run that say most, as short `name value` pairs. */
export function keyFigures(
  results: readonly CheckResult[],
  extra: Readonly<Record<string, number>>,
): string[] {
  const overlap = figuresOf(results, 'overlap');
  const fences = figuresOf(results, 'fences');
  const loss = figuresOf(results, 'loss-timing');
  const calls = figuresOf(results, 'call-bounds');
  const live = figuresOf(results, 'liveness');
  const take = figuresOf(results, 'takeover');
  const hand = figuresOf(results, 'handover');
  const parts = [
    `holds ${overlap['windows'] ?? 0}`,
    `overlaps ${overlap['overlaps'] ?? 0}${(overlap['overlaps'] ?? 0) > 0 ? ` (worst ${ms(overlap['worstMs'])})` : ''}`,
    `fence errors ${fences['violations'] ?? 0}`,
    `stale writes rejected ${fences['rejected'] ?? 0}`,
    `lost ${loss['losses'] ?? 0}${(loss['late'] ?? 0) > 0 ? ` (${loss['late']} late, worst ${ms(loss['worstLateMs'])})` : ''}`,
    `worst call ${(calls['worstExcessMs'] ?? 0) > 0 ? '+' : ''}${ms(calls['worstExcessMs'])} vs bound`,
    `probe ${ms(live['worstMs'])}`,
  ];
  if ((take['takeovers'] ?? 0) > 0)
    parts.push(`takeover ${ms(take['fastestMs'])}–${ms(take['slowestMs'])}`);
  if ((hand['handovers'] ?? 0) > 0) parts.push(`handover p99 ${ms(hand['p99Ms'])}`);
  if (extra['evictions'] !== undefined) parts.push(`evictions ${extra['evictions']}`);
  if ((extra['warnings'] ?? 0) > 0) parts.push(`warnings ${extra['warnings']}`);
  return parts;
}
