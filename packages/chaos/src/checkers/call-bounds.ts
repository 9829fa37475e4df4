import { overlapWith } from '../history/model.js';
import type { Checker, Finding } from './types.js';

/**
 * Every call ends within its bound (a `lock()`'s timeout, the backend's deadline for the
 * others) plus slack, not counting time its process could not run (stopped or stalled); no
 * unhandled rejection; after `close()`, nothing keeps a worker alive.
 */
export const checkCallBounds: Checker = (history, context) => {
  const findings: Finding[] = [];
  const killedAt = new Map(history.kills.map((kill) => [kill.actor, kill.at]));
  let worstExcessMs = Number.NEGATIVE_INFINITY;
  let calls = 0;
  for (const call of history.calls) {
    const killed = killedAt.get(call.actor);
    if (call.endAt === undefined && killed !== undefined && killed >= call.invokeAt) continue;
    calls++;
    const endAt = call.endAt ?? history.end;
    const ran =
      endAt - call.invokeAt - overlapWith(history.pauses.get(call.actor), call.invokeAt, endAt);
    const excess = ran - call.boundMs - context.callSlackMs;
    worstExcessMs = Math.max(worstExcessMs, excess);
    if (excess <= 0) continue;
    const what = `${call.actor}'s ${call.op}${call.key === undefined ? '' : ` of "${call.key}"`}`;
    findings.push({
      checker: 'call-bounds',
      at: call.invokeAt,
      ...(call.key === undefined ? {} : { key: call.key }),
      message:
        call.endAt === undefined
          ? `${what} never ended (still open ${ran.toFixed(0)} ms after it started; bound ${call.boundMs} ms)`
          : `${what} took ${ran.toFixed(0)} ms of running time, over its bound of ${call.boundMs} ms + ${context.callSlackMs} ms (${call.outcome}${call.error ? ` ${call.error}` : ''})`,
    });
  }
  for (const event of history.unhandled) {
    findings.push({
      checker: 'call-bounds',
      at: event.at,
      message: `unhandled rejection or exception in ${event.actor}: ${event.error}`,
    });
  }
  for (const leak of history.leaks) {
    findings.push({
      checker: 'call-bounds',
      message: `${leak.actor} still had ${leak.leaked.join(', ')} after close()`,
    });
  }
  for (const worker of history.noExit) {
    findings.push({
      checker: 'call-bounds',
      message: `${worker} did not exit by itself after close()`,
    });
  }
  return {
    checker: 'call-bounds',
    findings,
    figures: {
      calls,
      worstExcessMs: Number.isFinite(worstExcessMs) ? worstExcessMs : 0,
      unhandled: history.unhandled.length,
      leaks: history.leaks.length + history.noExit.length,
    },
  };
};
