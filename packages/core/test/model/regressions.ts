// Counterexamples the model check found, kept as regression cases. Each is replayed twice: from a
// fast-check seed and shrink path (the form fast-check prints) that find the bug with today's
// program generators, and from the shrunk program as first found, which stays meaningful when the
// generators change. A seed and path replay whatever the generators make of them: after changing
// program.ts, find new ones (revert the fix, run the property, take the seed and path it prints).
import type { Program } from './program.js';

/** One counterexample: what it showed, how to replay it, and the program. */
export interface Regression {
  readonly name: string;
  /** With `path`: a counterexample under the current generators (the bug's fix reverted). */
  readonly seed: number;
  readonly path: string;
  /** The shrunk counterexample as first found. */
  readonly program: Program;
}

/** The configuration the shrunk counterexamples share, but for their keepalive. */
const base = {
  lockers: 2,
  lockerTtls: [40, 40, 40],
  keys: 1,
  extendMany: false,
  watch: false,
  shrink: 0,
  opTimeoutMs: 20,
  randomSeed: 0,
} as const;

/** The counterexamples, in the order they were found (and fixed). */
export const REGRESSIONS: readonly Regression[] = [
  {
    // A keepalive tick and the user's extend(25) go out at the same clock reading; the store
    // applies the keepalive (40 ms) first, then the extend (25 ms). The extend's answer is taken
    // in at that same reading, before the keepalive's: Validity compared times only, so it held
    // the extend answered "before the keepalive was sent", dropped it, and let the keepalive's
    // 40 ms stand: two holders possible for 13 ms.
    name: 'an answer read at the same clock time as a later send may have been applied after it',
    seed: 1,
    path: '717:0:0:0:0:0:0:2:0:2:4:6:6:7:7:11:11:11:15:22:22:23:21:19:17:16:17',
    program: {
      config: { ...base, keepalive: [5, false, false] },
      steps: [
        { t: 'lock', actor: 0, key: 0, abortable: false, keepalive: true },
        { t: 'net', action: 'reply', index: 0 },
        { t: 'toTimer', before: 0 },
        { t: 'extend', lock: 0, ttl: 25 },
        { t: 'advance', ms: 1, healthy: true },
      ],
    },
  },
  {
    // The leader's lock (TTL 150, its acquire sent at 1000) gets extend(40) at 1001, which times
    // out. Validity then counted that unknown request from the last confirmation (1000), not from
    // when it was sent: validUntil moved back from 1038.6 to 1037.6 with nothing sent. By the same
    // rule, an extend(150) sent 300 ms after the last confirmation and timed out moved validUntil
    // 300 ms into the past and declared a live lock lost at once.
    name: 'a timed-out renewal bounds the lock from when it was sent, not from the last confirmation',
    seed: 1,
    path: '13:1:2:2:2:2:5:3:2:3:8:11:10:4:0:0:1:1:5:5:7:6:5:7:9:8:12:13:12:12',
    program: {
      config: { ...base, keepalive: [true, false, true] },
      steps: [
        { t: 'elect', actor: 0, key: 0, ttl: 150 },
        { t: 'jump', ms: 1 },
        { t: 'flush' },
        { t: 'extend', lock: 0, ttl: 40 },
        { t: 'toTimer', before: 0 },
      ],
    },
  },
  {
    // A session's lock() is waiting for its acquire when the session is closed; then its parent
    // is closed. The parent forgot the session as soon as the session's close began, so it did
    // not wait for it, and closed the backend while the session still had to hand back the lock
    // that acquire granted: the release went out on a closed backend (#8.10's symptom).
    name: "closing a locker waits for a session's close already under way",
    seed: 1,
    path: '48:0:0:0:0:0:0:0:0:0:8:7:9:9:11:11:14:14:14:18:17:18:23:23:1:1:1',
    program: {
      config: { ...base, lockers: 3, keepalive: [false, true, true] },
      steps: [
        { t: 'session', actor: 0, ttl: 40 },
        { t: 'lock', actor: 3, key: 0, abortable: false, keepalive: true },
        { t: 'close', actor: 7 },
      ],
    },
  },
  {
    // A session's lock() sends its first attempt while the parent holds the key; then the
    // parent is closed, which closes the session. close() stops the waits already begun, but
    // this one began after it, when the attempt came back "held": nothing stopped it, and the
    // parent, which releases its own lock only after its sessions have closed, waited for ever.
    name: 'a lock() whose first attempt is under way when its locker closes does not wait afterwards',
    seed: 1,
    path: '4727:1:0:0:0:0:0:3:0:2:7:8:12:12:14:15:16:18:20:20:20:22:25:25:25',
    program: {
      config: { ...base, keepalive: [true, true, true] },
      steps: [
        { t: 'session', actor: 0, ttl: 40 },
        { t: 'lock', actor: 0, key: 0, abortable: false, keepalive: true },
        { t: 'flush' },
        { t: 'withLock', actor: 2, key: 0 },
      ],
    },
  },
  {
    // Keepalive renews two locks with one extend each (no extendMany); the reply to one is lost
    // (that extend rejects at once) while the other is still out. Close() released both and
    // resolved: the locker tracked the two extends as one Promise.all, which settled with the
    // first rejection, so the extend still under way was no longer waited for (found in CI).
    name: 'close() waits for every extend of a keepalive tick, not only until the first fails',
    seed: 2134126628,
    path: '4316:0:3:3:6:4:4:9:12:6:3:4:8:8:10:11:11:15:19:19:29:35:35:38:40:49:53:62:67:70:69:69:54',
    program: {
      config: { ...base, keys: 2, keepalive: [true, 30, true], opTimeoutMs: 60 },
      steps: [
        { t: 'session', actor: 0, ttl: 40 },
        {
          t: 'lock',
          actor: 1,
          key: 0,
          ttl: 600,

          abortable: false,
          keepalive: true,
        },
        { t: 'tryLock', actor: 1, key: 3, ttl: 600 },
        { t: 'flush' },
        { t: 'session', actor: 0, ttl: 40 },
        { t: 'withLock', actor: 0, key: 0 },
        { t: 'advance', ms: 50, healthy: false },
        { t: 'close', actor: 5 },
        { t: 'net', action: 'reply', index: 3 },
        { t: 'net', action: 'reply', index: 7 },
        { t: 'net', action: 'lose', index: 4 },
      ],
    },
  },
];
