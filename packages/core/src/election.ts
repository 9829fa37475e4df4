import { isLockError, LockClosedError } from './errors.js';
import type { LockHandle } from './lock-handle.js';
import type { Locker } from './locker.js';
import type { LockInfo } from './options.js';
import {
  checkFunction,
  checkKey,
  checkOptions,
  checkPositive,
  checkSignal,
  checkTtl,
} from './validate.js';
import { sleep } from './wait.js';

/** Options of `locker.elect()`. */
export interface ElectionOptions {
  /**
   * Runs each time this locker becomes the leader. `signal` aborts when leadership ends (lost,
   * resigned or stopped): stop leading then. A rejected promise is reported to `onError` and
   * makes this locker resign.
   */
  readonly onLeader: (signal: AbortSignal, lock: LockHandle) => void | Promise<void>;
  /** Runs when this locker starts as a follower, and each time it stops being the leader. */
  readonly onFollower?: () => void | Promise<void>;
  /** Called with errors while campaigning (backend down, callback failed); campaigning goes on. */
  readonly onError?: (error: unknown) => void;
  /**
   * TTL of the leadership lock, in milliseconds.
   * @default the locker's `ttl`
   */
  readonly ttl?: number;
  /**
   * Pause before campaigning again after a backend error, in milliseconds.
   * @default 1000
   */
  readonly retryDelay?: number;
  /** Stops the election (like `stop()`) when aborted. */
  readonly signal?: AbortSignal;
}

/** A running campaign for leadership, from `locker.elect()`. */
export interface Election {
  /** The key campaigned for. */
  readonly key: string;
  /** Whether this locker is the leader right now (judged by the lock's local clock). */
  readonly isLeader: boolean;
  /** The current leader as the backend sees it, or `undefined` when there is none. */
  leader(): Promise<LockInfo | undefined>;
  /**
   * Gives up leadership (if held) and queues again behind the other candidates: it campaigns
   * again once another candidate has taken the lock, or after half a second when none does.
   */
  resign(): Promise<void>;
  /** Gives up leadership and stops campaigning. Resolves when the campaign loop has ended. */
  stop(): Promise<void>;
}

/**
 * How long a resigned leader leaves the lock to the other candidates before it campaigns again
 * (it stops waiting as soon as one takes it). A waiting candidate on a backend without
 * notifications retries every 100 ms at most (core's default backoff), but on a loaded machine
 * its timer can run hundreds of ms late: with 500 ms, clean-clone CI saw the resigner lead again
 * before the other candidate's next try. A sole candidate is leaderless this long after resigning.
 */
const HANDOVER_MS = 1_000;
/** How often a resigned leader looks whether another candidate took over. */
const HANDOVER_POLL_MS = 10;

/** A running election and the promise of its campaign loop's end. Internal to the locker. */
export interface StartedElection {
  readonly election: Election;
  /** Settles when the campaign has ended and its lock is released. */
  readonly done: Promise<void>;
}

/**
 * Calls `listener` when `signal` aborts, at once if it already has; returns the remover. An
 * already-aborted signal never fires `abort` again, so adding a listener alone would wait forever.
 */
function whenAborted(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) {
    listener();
    return () => {};
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** Implementation of `locker.elect()`: a loop of lock → lead until lost → follow → lock again. */
export function startElection(
  locker: Locker,
  key: string,
  options: ElectionOptions,
): StartedElection {
  checkKey(key);
  checkOptions(options, 'options', [
    'onLeader',
    'onFollower',
    'onError',
    'ttl',
    'retryDelay',
    'signal',
  ]);
  checkFunction(options.onLeader, 'options.onLeader');
  if (options.onFollower !== undefined) checkFunction(options.onFollower, 'options.onFollower');
  if (options.onError !== undefined) checkFunction(options.onError, 'options.onError');
  if (options.ttl !== undefined) checkTtl(options.ttl, 'options.ttl');
  if (options.retryDelay !== undefined) checkPositive(options.retryDelay, 'options.retryDelay');
  if (options.signal !== undefined) checkSignal(options.signal, 'options.signal');

  const stopped = new AbortController();
  const report = options.onError ?? (() => {});
  let current: LockHandle | undefined;
  let resignCurrent: (() => void) | undefined;
  let leading: Promise<void> | undefined;
  let following = false;
  let resigned = false;

  const follow = async () => {
    if (following) return;
    following = true;
    try {
      await options.onFollower?.();
    } catch (error) {
      report(error);
    }
  };

  const lead = async (lock: LockHandle) => {
    following = false;
    current = lock;
    // Leadership ends on loss, resignation or stop; the callback's signal aborts in every case,
    // also when the lock was lost or the election stopped before we got here.
    const leadership = new AbortController();
    const end = (reason: unknown) => leadership.abort(reason);
    const stopListeningLost = whenAborted(lock.signal, () => end(lock.signal.reason));
    const stopListeningStop = whenAborted(stopped.signal, () =>
      end(new LockClosedError('election')),
    );
    resignCurrent = () => {
      resigned = true;
      end(new LockClosedError('leadership'));
    };
    const ended = new Promise<void>((resolve) => whenAborted(leadership.signal, resolve));
    try {
      if (!leadership.signal.aborted) await options.onLeader(leadership.signal, lock);
    } catch (error) {
      report(error);
      resignCurrent();
    }
    await ended;
    stopListeningLost();
    stopListeningStop();
    current = undefined;
    resignCurrent = undefined;
    await lock.release().catch((error: unknown) => {
      if (!isLockError(error, 'LOST')) report(error);
    });
  };

  /** After resigning: give the other candidates the lock before campaigning again. */
  const handOver = async () => {
    const until = locker.clock.now() + HANDOVER_MS;
    while (!stopped.signal.aborted && locker.clock.now() < until) {
      const holder = await locker.inspect(key).catch(() => undefined);
      if (holder !== undefined && holder.holder !== locker.identity) return;
      await sleep(locker.clock, HANDOVER_POLL_MS, stopped.signal).catch(() => {});
    }
  };

  const campaign = async () => {
    while (!stopped.signal.aborted) {
      try {
        let lock: LockHandle | undefined;
        if (resigned) {
          resigned = false;
          await handOver();
          if (stopped.signal.aborted) return;
        }
        try {
          lock = await locker.tryLock(key, ttlOption(options));
        } catch (error) {
          if (!isLockError(error, 'NOT_ACQUIRED')) throw error;
          await follow();
          lock = await locker.lock(key, { ...ttlOption(options), signal: stopped.signal });
        }
        leading = lead(lock);
        await leading;
        leading = undefined;
        if (!stopped.signal.aborted) await follow();
      } catch (error) {
        if (stopped.signal.aborted || isLockError(error, 'CLOSED')) return;
        report(error);
        await follow();
        await sleep(locker.clock, options.retryDelay ?? 1_000, stopped.signal).catch(() => {});
      }
    }
  };

  const onStop = () => stopped.abort();
  const stopListeningUser =
    options.signal === undefined ? () => {} : whenAborted(options.signal, onStop);
  const stopListeningLocker = whenAborted(locker.signal, onStop);
  const done = campaign().finally(() => {
    stopListeningUser();
    stopListeningLocker();
  });

  const election: Election = {
    key,
    get isLeader() {
      return current?.held ?? false;
    },
    leader: () => locker.inspect(key),
    resign: async () => {
      resignCurrent?.();
      await leading;
    },
    stop: async () => {
      stopped.abort();
      await done;
    },
  };
  return { election, done };
}

function ttlOption(options: ElectionOptions): { ttl?: number } {
  return options.ttl === undefined ? {} : { ttl: options.ttl };
}
