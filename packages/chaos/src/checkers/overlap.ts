import type { Hold } from '../history/model.js';
import type { Checker, Finding } from './types.js';

/**
 * No two certain-hold windows of one key overlap. A window runs from the acquire's reply to the
 * earliest of the holder's `release()` call, its `lost`, its kill, and the library's own
 * validity (as last renewed in time). A paused holder's window still ends at its validity,
 * which a pause cannot extend, so paused holders need no exception here; what they write
 * after waking is the fence checker's business.
 */
export const checkOverlap: Checker = (history) => {
  const findings: Finding[] = [];
  let windows = 0;
  let worstMs = 0;
  for (const [key, holds] of byKey(history.holds)) {
    const sorted = holds.filter((h) => h.end > h.start).sort((a, b) => a.start - b.start);
    windows += sorted.length;
    const active: Hold[] = [];
    for (const hold of sorted) {
      for (let i = active.length - 1; i >= 0; i--) {
        if ((active[i] as Hold).end <= hold.start) active.splice(i, 1);
      }
      for (const other of active) {
        const overlapMs = Math.min(other.end, hold.end) - hold.start;
        if (overlapMs <= 0) continue;
        worstMs = Math.max(worstMs, overlapMs);
        findings.push({
          checker: 'overlap',
          key,
          at: hold.start,
          holds: [other.id, hold.id],
          message: `two holders of "${key}": ${hold.id} (fence ${hold.fence}) was granted while ${other.id} (fence ${other.fence}) still held it by its own validity, for ${overlapMs.toFixed(1)} ms (${other.id}'s window ended by ${other.endReason})`,
        });
      }
      active.push(hold);
    }
  }
  return { checker: 'overlap', findings, figures: { windows, overlaps: findings.length, worstMs } };
};

/** Groups holds by key. */
export function byKey(holds: readonly Hold[]): Map<string, Hold[]> {
  const map = new Map<string, Hold[]>();
  for (const hold of holds) {
    const list = map.get(hold.key) ?? [];
    list.push(hold);
    map.set(hold.key, list);
  }
  return map;
}
