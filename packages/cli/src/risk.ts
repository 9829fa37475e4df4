import type { RiskEvent } from '@lock/core';
import { formatDuration } from './duration.js';
import { describeError, type Reporter } from './reporter.js';

/** Reports the first stage of loss: a renewal failed, and the lock has this long left. */
export function reportRisk(reporter: Reporter, event: RiskEvent): void {
  reporter.line(
    `at risk: renewing lock ${JSON.stringify(event.lock.key)} failed (${describeError(event.cause)}); it counts as lost in ${formatDuration(event.remainingMs)} unless a renewal succeeds`,
  );
}
