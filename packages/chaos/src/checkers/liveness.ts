import type { Checker, Finding } from './types.js';

/**
 * No key stays blocked: after every fault is healed, the probe (a fresh locker) acquires each
 * key of the workload within the server's TTL + the waiters' retry interval + 1 s, counted from
 * the heal.
 */
export const checkLiveness: Checker = (history, context) => {
  const findings: Finding[] = [];
  const boundMs = context.serverTtlMs + context.retryMs + 1_000;
  let worstMs = 0;
  if (history.healAt === undefined) {
    return {
      checker: 'liveness',
      findings: [{ checker: 'liveness', message: 'the run never healed its faults' }],
      figures: { worstMs, boundMs },
    };
  }
  const healAt = history.healAt;
  for (const key of context.keys) {
    const probe = history.calls.find(
      (call) =>
        call.actor === context.probeActor &&
        call.op === 'lock' &&
        call.key === key &&
        call.outcome === 'ok',
    );
    if (probe === undefined || probe.endAt === undefined) {
      findings.push({
        checker: 'liveness',
        key,
        at: healAt,
        message: `"${key}" could not be acquired after the faults healed (bound ${boundMs} ms)`,
      });
      continue;
    }
    const tookMs = probe.endAt - healAt;
    worstMs = Math.max(worstMs, tookMs);
    if (tookMs > boundMs) {
      findings.push({
        checker: 'liveness',
        key,
        at: probe.endAt,
        message: `"${key}" was acquirable only ${tookMs.toFixed(0)} ms after the faults healed (bound ${boundMs} ms)`,
      });
    }
  }
  return { checker: 'liveness', findings, figures: { worstMs, boundMs } };
};
