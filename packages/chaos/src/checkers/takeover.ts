import type { Checker, Finding } from './types.js';

/** How much earlier than the TTL a takeover may come (the bound). */
const EARLY_SLACK_MS = 100;

/**
 * A holder killed (SIGKILL) while holding is taken over within [TTL − 100 ms, server TTL +
 * retry + 1 s], counted from the last request of the holder that could have set the lock's TTL
 * (its acquire, or a renewal, whether or not a reply came).
 */
export const checkTakeover: Checker = (history, context) => {
  const findings: Finding[] = [];
  if (!context.takeover) return { checker: 'takeover', findings, figures: {} };
  let takeovers = 0;
  let fastestMs = Number.POSITIVE_INFINITY;
  let slowestMs = 0;
  for (const kill of history.kills) {
    const hold = history.holds.find((h) => h.actor === kill.actor && h.killedAt === kill.at);
    if (hold === undefined || hold.endReason !== 'killed') continue;
    const lastSent = Math.max(hold.invokeAt, ...hold.renewSent.filter((t) => t <= kill.at));
    const ttl = hold.ttlMs ?? context.ttlMs;
    const earliest = lastSent + ttl - EARLY_SLACK_MS;
    const latest = lastSent + context.serverTtlMs + context.retryMs + 1_000;
    const next = history.holds
      .filter((h) => h.key === hold.key && h.start > kill.at)
      .sort((a, b) => a.start - b.start)[0];
    if (next === undefined) {
      if (history.end > latest) {
        findings.push({
          checker: 'takeover',
          key: hold.key,
          at: kill.at,
          holds: [hold.id],
          message: `nobody took "${hold.key}" over after ${hold.id} was killed (${(history.end - lastSent).toFixed(0)} ms since its last request)`,
        });
      }
      continue;
    }
    takeovers++;
    const tookMs = next.start - lastSent;
    fastestMs = Math.min(fastestMs, tookMs);
    slowestMs = Math.max(slowestMs, tookMs);
    if (next.start < earliest || next.start > latest) {
      findings.push({
        checker: 'takeover',
        key: hold.key,
        at: next.start,
        holds: [hold.id, next.id],
        message: `${next.id} took "${hold.key}" over ${tookMs.toFixed(0)} ms after killed ${hold.id}'s last request; allowed [${(ttl - EARLY_SLACK_MS).toFixed(0)}, ${(context.serverTtlMs + context.retryMs + 1_000).toFixed(0)}] ms`,
      });
    }
  }
  return {
    checker: 'takeover',
    findings,
    figures: {
      takeovers,
      fastestMs: Number.isFinite(fastestMs) ? fastestMs : 0,
      slowestMs,
    },
  };
};
