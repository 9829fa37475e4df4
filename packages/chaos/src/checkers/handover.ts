import { percentile } from '@lock/testkit/servers';
import type { Call } from '../history/model.js';
import type { Checker, Finding } from './types.js';

/** How far from a disruptive fault a handover still counts (ms). */
const FAULT_MARGIN_MS = 2_000;

/**
 * When a worker is waiting for a key and its holder releases it, someone gets it within the
 * scenario's handover bound: waiters are woken, not left to a slow poll (a dead watch, a lost
 * notification). Handovers near a disruptive fault are not judged. Figures always; findings only
 * when the scenario sets a bound.
 */
export const checkHandover: Checker = (history, context) => {
  const findings: Finding[] = [];
  const bound = context.handoverBoundMs;
  const waits = history.calls.filter((call) => call.op === 'lock');
  const disruptions = history.faults.filter((fault) => fault.disruptive).map((fault) => fault.at);
  const times: number[] = [];
  for (const release of history.calls) {
    if (release.op !== 'release' || release.outcome !== 'ok' || release.endAt === undefined)
      continue;
    const releasedAt = release.endAt;
    const key = release.key;
    if (key === undefined) continue;
    if (
      disruptions.some(
        (at) =>
          at > releasedAt - FAULT_MARGIN_MS && at < releasedAt + (bound ?? 0) + FAULT_MARGIN_MS,
      )
    ) {
      continue;
    }
    if (!waits.some((call) => isWaitingAt(call, key, release.actor, releasedAt, bound ?? 0)))
      continue;
    const next = history.holds
      .filter((hold) => hold.key === key && hold.start >= releasedAt)
      .reduce<number | undefined>(
        (first, hold) => Math.min(first ?? hold.start, hold.start),
        undefined,
      );
    const tookMs = (next ?? history.end) - releasedAt;
    times.push(tookMs);
    if (bound !== undefined && tookMs > bound) {
      findings.push({
        checker: 'handover',
        key,
        at: releasedAt,
        message: `"${key}" was released while a worker waited, and nobody got it for ${tookMs.toFixed(0)} ms (bound ${bound} ms)`,
      });
    }
  }
  return {
    checker: 'handover',
    findings,
    figures: {
      handovers: times.length,
      p50Ms: times.length === 0 ? 0 : percentile(times, 50),
      p99Ms: times.length === 0 ? 0 : percentile(times, 99),
      maxMs: times.length === 0 ? 0 : Math.max(...times),
    },
  };
};

/** Whether `call` (someone else's `lock()` of `key`) was waiting at `at` and kept waiting. */
function isWaitingAt(
  call: Call,
  key: string,
  releaser: string,
  at: number,
  bound: number,
): boolean {
  if (call.key !== key || call.actor === releaser || call.invokeAt >= at) return false;
  if (call.endAt === undefined || call.outcome === 'ok')
    return call.endAt === undefined || call.endAt > at;
  return call.endAt >= at + bound;
}
