import { describe, expect, it } from '@jest/globals';
import { Handoffs } from '../src/handoffs.js';
import type { KeyScope } from '../src/key-scope.js';

/** A key scope whose handoff histogram keeps its points (in milliseconds, for readability). */
function scope(): { scope: KeyScope; points: number[] } {
  const points: number[] = [];
  const handoffs = { record: (seconds: number) => points.push(Math.round(seconds * 1e6) / 1e3) };
  return { scope: { handoffs } as unknown as KeyScope, points };
}

/**
 * Handoff timing as `LockTelemetry` drives it, with the times core reports (a hold's `holdMs` is
 * its release's `sentAt` minus its grant time). The paths through real lockers are in
 * event-paths.ts; these are the orders of events a test cannot force on a server.
 */
describe('Handoffs', () => {
  it('times a waiting call from the release it waited for, once', () => {
    const { scope: s, points } = scope();
    const handoffs = new Handoffs();
    handoffs.granted('k', false, 0, 1); // A granted, uncontended
    handoffs.contended('k'); // B (began at 2) denied
    handoffs.released('k', s, 10 - 1, 10); // A sent its release at 10
    handoffs.granted('k', true, 2, 10.5); // B granted
    expect(points).toEqual([0.5]);
    handoffs.released('k', s, 20 - 10.5, 20); // B releases: nobody waits
    handoffs.granted('k', false, 30, 31); // C, later, uncontended
    handoffs.released('k', s, 40 - 31, 40);
    expect(points).toEqual([0.5]);
  });

  it('times a grant that came before the release was confirmed (both replies raced)', () => {
    const { scope: s, points } = scope();
    const handoffs = new Handoffs();
    handoffs.contended('k'); // B (began at 2) denied while A holds (granted at 1)
    handoffs.granted('k', true, 2, 10.25); // B's grant is reported first...
    handoffs.released('k', s, 10 - 1, 10); // ...then A's release, sent at 10
    expect(points).toEqual([0.25]);
    // B's own release is no handoff to B: its grant time is its own, not a later one.
    const sentAt = 10.25 + 0.1 + 0.2; // not exactly representable: the subtraction must match
    handoffs.released('k', s, sentAt - 10.25, sentAt);
    expect(points).toEqual([0.25]);
  });

  it('counts no handoff to a call that began after the release was sent', () => {
    const { scope: s, points } = scope();
    const handoffs = new Handoffs();
    handoffs.contended('k');
    handoffs.released('k', s, 9, 10);
    handoffs.granted('k', true, 11, 12); // began at 11: it found another holder, not that release
    expect(points).toEqual([]);
  });

  it('follows a key from its first waited grant on, when no attempt was denied', () => {
    const { scope: s, points } = scope();
    const handoffs = new Handoffs();
    handoffs.granted('k', true, 0, 5); // waited in the backend's queue: no denial
    handoffs.released('k', s, 5, 10);
    handoffs.granted('k', true, 8, 10.75);
    expect(points).toEqual([0.75]);
  });

  it('follows nothing on uncontended keys, and forgets everything on clear()', () => {
    const { scope: s, points } = scope();
    const handoffs = new Handoffs();
    handoffs.released('k', s, 9, 10);
    handoffs.granted('k', true, 2, 11); // the release before it was not followed
    expect(points).toEqual([]);
    handoffs.released('k', s, 1, 12);
    handoffs.clear();
    handoffs.granted('k', true, 11, 13);
    expect(points).toEqual([]);
  });
});
