import { type Hold, type RunHistory, touches } from '../history/model.js';
import { byKey } from './overlap.js';
import type { Checker, Finding } from './types.js';

/** Lateness below this is clock rounding, not lateness (ms). */
const ROUNDING_MS = 0.1;

/**
 * `lost` fires at or before the holder's own validity ends, and before anyone else acquires.
 *
 * A hold that was not released before its validity ran out must have seen `lost` by then. A
 * holder that could not run at that moment (its process stopped, or its event loop stalled, as
 * logged by the worker's own heartbeat) is excused for as long as it could not run (plus 25 ms to
 * get going again): no library can fire a timer in a frozen process. The figures give the lead (validity end minus `lost`) of losses by the clock.
 */
export const checkLossTiming: Checker = (history) => {
  const findings: Finding[] = [];
  let late = 0;
  let worstLateMs = 0;
  let losses = 0;
  for (const [key, holds] of byKey(history.holds)) {
    const byStart = [...holds].sort((a, b) => a.start - b.start);
    for (const hold of byStart) {
      if (hold.lostAt !== undefined) losses++;
      if (hold.killedAt !== undefined && hold.killedAt <= hold.validityEnd) continue;
      const lateness = latenessOf(hold, history);
      if (lateness !== undefined) {
        if (lateness.missing) {
          findings.push({
            checker: 'loss-timing',
            key,
            at: hold.validityEnd,
            holds: [hold.id],
            message: `${hold.id}'s validity of "${key}" ran out and no lost was ever reported`,
          });
        } else if (lateness.ms > ROUNDING_MS) {
          late++;
          worstLateMs = Math.max(worstLateMs, lateness.ms);
          findings.push({
            checker: 'loss-timing',
            key,
            at: hold.validityEnd,
            holds: [hold.id],
            message: `${hold.id} was told of the loss of "${key}" ${lateness.ms.toFixed(2)} ms after its own validity ended (reason ${hold.lostReason})`,
          });
        }
      }
      const overtaken = overtakenBeforeLost(hold, byStart, history);
      if (overtaken !== undefined) {
        findings.push({
          checker: 'loss-timing',
          key,
          at: overtaken.start,
          holds: [hold.id, overtaken.id],
          message: `${overtaken.id} acquired "${key}" ${((hold.lostAt as number) - overtaken.start).toFixed(2)} ms before ${hold.id} was told of its loss`,
        });
      }
    }
  }
  return { checker: 'loss-timing', findings, figures: { losses, late, worstLateMs } };
};

/**
 * Lateness after the end of a stop or stall that still counts as caused by it (ms): a resumed
 * process must be scheduled again and run every timer that fell due meanwhile.
 */
const AFTER_STALL_MS = 25;

/**
 * How late `lost` came for a hold whose validity ran out while it was held; `undefined` when
 * it was released in time, the run ended first, or the lateness is explained by time the
 * holder's process could not run (a stop or a stall that covered the deadline and ended at
 * most 25 ms before the loss was told). A grant that arrived after its validity had already
 * ended only needs a loss told at all: nothing could be told before it.
 */
function latenessOf(hold: Hold, history: RunHistory): { ms: number; missing: boolean } | undefined {
  if (!Number.isFinite(hold.validityEnd) || hold.validityEnd >= history.end) return undefined;
  const lostFirst = hold.lostAt !== undefined && hold.lostAt <= (hold.releaseAt ?? Infinity);
  if (!lostFirst && hold.releaseAt !== undefined && hold.releaseAt < hold.validityEnd) {
    return undefined;
  }
  const noticed = hold.lostAt ?? history.end;
  if (hold.start >= hold.validityEnd) {
    // Granted already expired (its reply came after its validity): telling it lost at once is
    // right, and nothing could have been told before the grant.
    return hold.lostAt === undefined && hold.releaseAt === undefined
      ? { ms: noticed - hold.start, missing: true }
      : undefined;
  }
  const deadline = hold.validityEnd;
  if (noticed <= deadline) return { ms: noticed - deadline, missing: false };
  const covering = (history.pauses.get(hold.actor) ?? []).filter(
    (span) => span.from <= deadline + 1 && span.to >= deadline,
  );
  if (covering.length > 0) {
    // Stalls the heartbeat logs back to back (one ends where the next begins: the process ran
    // its overdue timers without the heartbeat getting a turn) are one time it could not run.
    const spans = [...(history.pauses.get(hold.actor) ?? [])].sort((a, b) => a.from - b.from);
    let runnableAgain = Math.max(...covering.map((span) => span.to));
    for (const span of spans) {
      if (span.from <= runnableAgain + 1 && span.to > runnableAgain) runnableAgain = span.to;
    }
    if (noticed - runnableAgain <= AFTER_STALL_MS) return undefined;
  }
  return { ms: noticed - deadline, missing: hold.lostAt === undefined };
}

/** Another grant of the key that came before this holder was told it lost, if any. */
function overtakenBeforeLost(
  hold: Hold,
  byStart: readonly Hold[],
  history: RunHistory,
): Hold | undefined {
  if (hold.lostAt === undefined) return undefined;
  const lostAt = hold.lostAt;
  const next = byStart.find((other) => other.start > hold.start && other.id !== hold.id);
  if (next === undefined || next.start >= lostAt) return undefined;
  if (hold.releaseAt !== undefined && hold.releaseAt <= next.start) return undefined;
  if (hold.killedAt !== undefined && hold.killedAt <= next.start) return undefined;
  if (touches(history.pauses.get(hold.actor), next.start, lostAt)) return undefined;
  return next;
}
