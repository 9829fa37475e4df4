import {
  BackendError,
  type BackendSemaphoreHolder,
  type BackendSemaphoreInfo,
  type ExtendRequest,
  type ReleaseRequest,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreKind,
  type SemaphoreMode,
  type SemaphoreOwnerResult,
} from '@lock/core';
import { semaphoreKeys } from './keys.js';
import type { LockScript } from './scripts.js';
import {
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_EXTEND,
  SEMAPHORE_EXTEND_MANY,
  SEMAPHORE_INSPECT,
  SEMAPHORE_RELEASE,
  semaphoreScriptKeys,
} from './semaphore-scripts.js';

/** Runs one script (EVALSHA, EVAL on NOSCRIPT), bounded by the backend's deadlines. */
export type ScriptRunner = (
  script: LockScript,
  keys: readonly string[],
  argv: readonly string[],
  what: string,
  key?: string,
) => Promise<unknown>;

/** A script's result and the server's `TIME` (ms) it judged expiry by. */
export interface Timed<R> {
  readonly result: R;
  /** The server clock reading the script used, in milliseconds. */
  readonly now: number;
}

/** Holdings renewed by one script call in `extendMany` (5 keys each; bounded so one call stays short). */
const EXTEND_BATCH = 100;

/**
 * The semaphore operations of {@link RedisBackend}: one script call (one round trip) each.
 * Every method also returns the server time its script judged expiry by, for the test that
 * replays the same requests through core's `decideSemaphore`.
 */
export class RedisSemaphores {
  readonly #run: ScriptRunner;
  readonly #prefix: string;
  readonly #isCluster: () => boolean;

  constructor(run: ScriptRunner, prefix: string, isCluster: () => boolean) {
    this.#run = run;
    this.#prefix = prefix;
    this.#isCluster = isCluster;
  }

  /** One acquire attempt (rules 1–6 of core's semaphore rules). */
  async acquire(request: SemaphoreAcquireRequest): Promise<Timed<SemaphoreAcquireResult>> {
    const keys = semaphoreKeys(this.#prefix, request.key);
    const reply = await this.#run(
      SEMAPHORE_ACQUIRE,
      semaphoreScriptKeys(keys),
      [
        request.owner,
        request.mode,
        String(request.count),
        String(request.permits),
        String(Math.ceil(request.ttlMs)),
        request.wait ? '1' : '0',
        keys.channel,
      ],
      'semaphore acquire',
      request.key,
    );
    return toAcquireReply(reply);
  }

  /** Owner-checked renewal of one holding. */
  async extend(request: ExtendRequest): Promise<Timed<SemaphoreOwnerResult>> {
    const keys = semaphoreKeys(this.#prefix, request.key);
    const reply = asArray(
      await this.#run(
        SEMAPHORE_EXTEND,
        semaphoreScriptKeys(keys),
        [request.owner, String(Math.ceil(request.ttlMs)), keys.channel],
        'semaphore extend',
        request.key,
      ),
    );
    return { result: toOwnerResult(reply[0]), now: Number(reply[1]) };
  }

  /**
   * Renews many holdings: one script call per batch of {@link EXTEND_BATCH} on a standalone
   * server; on a Cluster one call per holding, all sent at once (their keys sit on many slots).
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<SemaphoreOwnerResult[]> {
    if (this.#isCluster()) {
      return Promise.all(requests.map(async (r) => (await this.extend(r)).result));
    }
    const batches: ExtendRequest[][] = [];
    for (let i = 0; i < requests.length; i += EXTEND_BATCH) {
      batches.push(requests.slice(i, i + EXTEND_BATCH));
    }
    const replies = await Promise.all(
      batches.map((batch) =>
        this.#run(
          SEMAPHORE_EXTEND_MANY,
          batch.flatMap((r) => semaphoreScriptKeys(semaphoreKeys(this.#prefix, r.key))),
          batch.flatMap((r) => [
            r.owner,
            String(Math.ceil(r.ttlMs)),
            semaphoreKeys(this.#prefix, r.key).channel,
          ]),
          'semaphore extend',
        ),
      ),
    );
    return replies.flatMap((reply) => asArray(reply).slice(0, -1).map(toOwnerResult));
  }

  /** Owner-checked release; also leaves the line. */
  async release(request: ReleaseRequest): Promise<Timed<SemaphoreOwnerResult>> {
    const keys = semaphoreKeys(this.#prefix, request.key);
    const reply = asArray(
      await this.#run(
        SEMAPHORE_RELEASE,
        semaphoreScriptKeys(keys),
        [request.owner, keys.channel],
        'semaphore release',
        request.key,
      ),
    );
    return { result: toOwnerResult(reply[0]), now: Number(reply[1]) };
  }

  /** The live holders (in grant order) and the number waiting; `undefined` when idle. */
  async inspect(key: string): Promise<Timed<BackendSemaphoreInfo | undefined>> {
    const keys = semaphoreKeys(this.#prefix, key);
    const reply = asArray(
      await this.#run(
        SEMAPHORE_INSPECT,
        [keys.meta, keys.holders, keys.lineExpiry, keys.entries],
        [],
        'semaphore inspect',
        key,
      ),
    );
    const now = Number(reply[0]);
    if (reply.length === 1) return { result: undefined, now };
    const holders: BackendSemaphoreHolder[] = [];
    let inUse = 0;
    for (let i = 5; i + 2 < reply.length; i += 3) {
      const [count, mode, fence] = parseEntry(reply[i + 2]);
      inUse += count;
      holders.push({
        owner: String(reply[i]),
        count,
        mode,
        fence,
        remainingMs: Math.max(0, Number(reply[i + 1]) - now),
      });
    }
    holders.sort((a, b) => a.fence - b.fence);
    return {
      result: {
        kind: String(reply[1]) as SemaphoreKind,
        permits: Number(reply[2]),
        fence: Number(reply[3]),
        waiting: Number(reply[4]),
        inUse,
        holders,
      },
      now,
    };
  }
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) {
    throw new BackendError('redis semaphore script returned an unexpected reply', {
      cause: reply,
    });
  }
  return reply;
}

function toOwnerResult(reply: unknown): SemaphoreOwnerResult {
  const value = Number(reply);
  if (value === 1) return 'ok';
  if (value === 0) return 'not-found';
  throw new BackendError('redis semaphore script returned an unexpected reply', { cause: reply });
}

/** Parses the acquire script's `{1, fence, now}` / `{0, …, now}` / `{2, kind, permits, now}`. */
function toAcquireReply(raw: unknown): Timed<SemaphoreAcquireResult> {
  const reply = asArray(raw);
  const flag = Number(reply[0]);
  const now = Number(reply[reply.length - 1]);
  if (flag === 1) return { result: { acquired: true, fence: Number(reply[1]) }, now };
  if (flag === 2) {
    const mismatch = { kind: String(reply[1]) as SemaphoreKind, permits: Number(reply[2]) };
    return { result: { acquired: false, mismatch }, now };
  }
  const retry = Number(reply[4]);
  return {
    result: {
      acquired: false,
      inUse: Number(reply[1]),
      holders: Number(reply[2]),
      ahead: Number(reply[3]),
      retryAfterMs: retry < 0 ? undefined : retry,
    },
    now,
  };
}

/** An entry's `"<count> <mode> <fence>"`. */
function parseEntry(entry: unknown): [number, SemaphoreMode, number] {
  const [count, mode, fence] = String(entry).split(' ');
  return [Number(count), mode as SemaphoreMode, Number(fence)];
}
