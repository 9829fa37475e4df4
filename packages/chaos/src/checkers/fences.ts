import type { Attempt, Hold } from '../history/model.js';
import { byKey } from './overlap.js';
import type { Checker, Finding } from './types.js';

/**
 * Fences of one key strictly increase in grant order, and the resource accepts no stale token.
 *
 * Grant order is real-time order: when one grant's reply came before another's request left,
 * the later grant must carry the larger fence (grants whose calls overlap in time may be ordered
 * either way, but no two may share a fence). At the resource, accepted fences never go down
 * (its own rule), and one accepted fence belongs to one grant: the same token accepted from two
 * holders means the resource could not tell the stale one.
 */
export const checkFences: Checker = (history) => {
  const findings: Finding[] = [];
  let grants = 0;
  for (const [key, holds] of byKey(history.holds)) {
    grants += holds.length;
    findings.push(...duplicates(key, holds), ...backwards(key, holds));
  }
  const holdsById = new Map(history.holds.map((hold) => [hold.id, hold]));
  const resource = resourceFindings(history.attempts, holdsById);
  findings.push(...resource.findings);
  return {
    checker: 'fences',
    findings,
    figures: {
      grants,
      accepted: resource.accepted,
      rejected: resource.rejected,
      violations: findings.length,
    },
  };
};

function duplicates(key: string, holds: readonly Hold[]): Finding[] {
  const byFence = new Map<number, Hold[]>();
  for (const hold of holds) byFence.set(hold.fence, [...(byFence.get(hold.fence) ?? []), hold]);
  const findings: Finding[] = [];
  for (const [fence, same] of byFence) {
    if (same.length < 2) continue;
    findings.push({
      checker: 'fences',
      key,
      at: (same[1] as Hold).start,
      holds: same.map((hold) => hold.id),
      message: `fence ${fence} of "${key}" was handed out ${same.length} times (${same
        .slice(0, 4)
        .map((hold) => hold.id)
        .join(', ')}${same.length > 4 ? ', …' : ''})`,
    });
  }
  return findings;
}

function backwards(key: string, holds: readonly Hold[]): Finding[] {
  const byInvoke = [...holds].sort((a, b) => a.invokeAt - b.invokeAt);
  const byReply = [...holds].sort((a, b) => a.start - b.start);
  const findings: Finding[] = [];
  let next = 0;
  let highest: Hold | undefined;
  for (const hold of byInvoke) {
    while (next < byReply.length && (byReply[next] as Hold).start < hold.invokeAt) {
      const done = byReply[next] as Hold;
      if (highest === undefined || done.fence > highest.fence) highest = done;
      next++;
    }
    if (highest !== undefined && hold.fence < highest.fence) {
      findings.push({
        checker: 'fences',
        key,
        at: hold.start,
        holds: [highest.id, hold.id],
        message: `fence of "${key}" went backwards: ${hold.id} got ${hold.fence} after ${highest.id} had been granted ${highest.fence}`,
      });
    }
  }
  return findings;
}

function resourceFindings(
  attempts: readonly Attempt[],
  holds: ReadonlyMap<string, Hold>,
): { findings: Finding[]; accepted: number; rejected: number } {
  const findings: Finding[] = [];
  const highest = new Map<string, number>();
  const ownerOf = new Map<string, string>();
  let accepted = 0;
  let rejected = 0;
  for (const attempt of attempts) {
    if (!attempt.accepted) {
      rejected++;
      continue;
    }
    accepted++;
    const top = highest.get(attempt.key);
    if (top !== undefined && attempt.fence < top) {
      findings.push({
        checker: 'fences',
        key: attempt.key,
        at: attempt.at,
        holds: [attempt.hold],
        message: `the resource accepted fence ${attempt.fence} for "${attempt.key}" after ${top}`,
      });
    }
    highest.set(attempt.key, Math.max(top ?? attempt.fence, attempt.fence));
    const token = `${attempt.key}\u0000${attempt.fence}`;
    const owner = ownerOf.get(token);
    if (owner === undefined) ownerOf.set(token, attempt.hold);
    else if (owner !== attempt.hold) {
      ownerOf.set(token, attempt.hold);
      findings.push({
        checker: 'fences',
        key: attempt.key,
        at: attempt.at,
        holds: [owner, attempt.hold],
        message: `stale token accepted: the resource took fence ${attempt.fence} for "${attempt.key}" from ${owner} and then from ${attempt.hold}`,
      });
    }
    const granted = holds.get(attempt.hold)?.fence;
    if (granted !== undefined && granted !== attempt.fence) {
      findings.push({
        checker: 'fences',
        key: attempt.key,
        at: attempt.at,
        holds: [attempt.hold],
        message: `${attempt.hold} wrote with fence ${attempt.fence} but was granted ${granted}`,
      });
    }
  }
  return { findings, accepted, rejected };
}
