import type { Checker, Finding } from './types.js';

/**
 * In a scenario whose faults leave every holder able to renew in time (no fault at all, or a
 * pause much shorter than the TTL), no lock may be reported lost.
 */
export const checkSpuriousLoss: Checker = (history, context) => {
  const findings: Finding[] = context.lossExpected
    ? []
    : history.lost.map((lost) => ({
        checker: 'spurious-loss' as const,
        key: lost.key,
        at: lost.at,
        holds: [lost.hold],
        message: `${lost.hold} lost "${lost.key}" (${lost.reason}) although nothing in this scenario should cost a lock`,
      }));
  return { checker: 'spurious-loss', findings, figures: { lost: history.lost.length } };
};
