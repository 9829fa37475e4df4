import { isLockError, type RiskEvent } from '@lock/core';
import { formatDuration } from './duration.js';
import { describeError, type Reporter } from './reporter.js';

/** Reports the first stage of loss: a renewal failed, and the lock has this long left. */
export function reportRisk(reporter: Reporter, event: RiskEvent): void {
  reporter.line(
    `at risk: renewing lock ${JSON.stringify(event.lock.key)} failed (${describeError(event.cause)}); it counts as lost in ${formatDuration(event.remainingMs)} unless a renewal succeeds`,
  );
}

/**
 * Reports an error nobody awaits (a background release after a loss, a failed campaign). One
 * kind is left out: work cut short because `lock` itself is closing the backend to exit.
 */
export function reportBackgroundError(reporter: Reporter, error: unknown): void {
  if (isLockError(error, 'CLOSED')) return;
  reporter.line(describeError(error));
}
