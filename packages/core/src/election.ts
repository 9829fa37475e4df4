import { isLockError, LockClosedError } from './errors.js';
import type { LockHandle } from './lock-handle.js';
import type { Locker } from './locker.js';
import type { LockInfo } from './options.js';
import { checkFunction, checkKey, checkOptions, checkPositive, checkSignal } from './validate.js';
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
  /** Gives up leadership (if held) and queues again behind the other candidates. */
  resign(): Promise<void>;
  /** Gives up leadership and stops campaigning. Resolves when the campaign loop has ended. */
  stop(): Promise<void>;
}

/** Implementation of `locker.elect()`: a loop of lock → lead until lost → follow → lock again. */
export function elect(locker: Locker, key: string, options: ElectionOptions): Election {
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
  if (options.ttl !== undefined) checkPositive(options.ttl, 'options.ttl');
  if (options.retryDelay !== undefined) checkPositive(options.retryDelay, 'options.retryDelay');
  if (options.signal !== undefined) checkSignal(options.signal, 'options.signal');

  const stopped = new AbortController();
  const report = options.onError ?? (() => {});
  let current: LockHandle | undefined;
  let resignCurrent: (() => void) | undefined;
  let leading: Promise<void> | undefined;
  let following = false;

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
    // Leadership ends on loss, resignation or stop; the callback's signal aborts in every case.
    const leadership = new AbortController();
    const end = (reason: unknown) => leadership.abort(reason);
    const onLost = () => end(lock.signal.reason);
    const onStop = () => end(new LockClosedError('election'));
    lock.signal.addEventListener('abort', onLost, { once: true });
    stopped.signal.addEventListener('abort', onStop, { once: true });
    resignCurrent = () => end(new LockClosedError('leadership'));
    const ended = new Promise<void>((resolve) =>
      leadership.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    try {
      await options.onLeader(leadership.signal, lock);
    } catch (error) {
      report(error);
      resignCurrent();
    }
    await ended;
    lock.signal.removeEventListener('abort', onLost);
    stopped.signal.removeEventListener('abort', onStop);
    current = undefined;
    resignCurrent = undefined;
    await lock.release().catch((error: unknown) => {
      if (!isLockError(error, 'LOST')) report(error);
    });
  };

  const campaign = async () => {
    while (!stopped.signal.aborted) {
      try {
        let lock: LockHandle | undefined;
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
  options.signal?.addEventListener('abort', onStop, { once: true });
  locker.signal.addEventListener('abort', onStop, { once: true });
  const loop = campaign().finally(() => {
    options.signal?.removeEventListener('abort', onStop);
    locker.signal.removeEventListener('abort', onStop);
  });

  return {
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
      await loop;
    },
  };
}

function ttlOption(options: ElectionOptions): { ttl?: number } {
  return options.ttl === undefined ? {} : { ttl: options.ttl };
}
