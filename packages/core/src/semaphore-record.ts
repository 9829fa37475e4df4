/**
 * Core's semaphore fallback: the rules of `decideSemaphore` applied to a backend's
 * compare-and-set record (`readRecord` / `writeRecord`) in a read → decide → conditional-write
 * loop, for backends without native semaphore methods.
 * @module
 */
import type {
  BackendSemaphoreInfo,
  ExtendRequest,
  LockBackend,
  ReleaseRequest,
  SemaphoreAcquireRequest,
  SemaphoreAcquireResult,
  SemaphoreKind,
  SemaphoreMode,
  SemaphoreOwnerResult,
  VersionedRecord,
} from './backend.js';
import type { Clock } from './clock.js';
import { BackendError, quoteKey } from './errors.js';
import {
  decideSemaphore,
  describeSemaphore,
  kindOf,
  type SemaphoreCommand,
  type SemaphoreEntry,
  type SemaphoreState,
} from './semaphore-rules.js';
import { backoffDelay } from './wait.js';

/** The semaphore operations core runs on: a backend's native methods or this fallback. */
export interface SemaphoreOps {
  acquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult>;
  extend(request: ExtendRequest): Promise<SemaphoreOwnerResult>;
  extendMany?:
    | ((requests: readonly ExtendRequest[]) => Promise<SemaphoreOwnerResult[]>)
    | undefined;
  release(request: ReleaseRequest): Promise<SemaphoreOwnerResult>;
  inspect(key: string): Promise<BackendSemaphoreInfo | undefined>;
}

/** An entry as stored: its TTL and the stamp it was last written with, never an expiry time. */
interface StoredEntry {
  /** owner */
  readonly o: string;
  /** count */
  readonly c: number;
  /** mode */
  readonly m: SemaphoreMode;
  /** fence (0 for waiters) */
  readonly f: number;
  /** TTL in ms */
  readonly t: number;
  /** stamp: the record's write sequence when this entry was last written */
  readonly s: number;
}

/** The record as stored (JSON). Version 1. */
interface StoredRecord {
  readonly v: 1;
  readonly kind: SemaphoreKind;
  readonly permits: number;
  readonly fence: number;
  /** Write sequence: the stamp of the next entry written. */
  readonly seq: number;
  readonly holders: readonly StoredEntry[];
  readonly waiters: readonly StoredEntry[];
}

/** Compare-and-set rounds before an operation gives up with a `BackendError`. */
const MAX_ROUNDS = 64;

/** Calls waiting for a key's next compare-and-set round (see `RecordSemaphores.#enqueue`). */
interface QueuedCommands {
  readonly commands: readonly SemaphoreCommand[];
  readonly resolve: (replies: (SemaphoreAcquireResult | SemaphoreOwnerResult)[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Semaphores over a compare-and-set record.
 *
 * **Which clock decides expiry**: no machine's wall clock. Every holder and waiter entry carries
 * a stamp that changes each time it is written (granted, renewed, its place refreshed). This
 * process counts an entry as expired once it has seen the *same stamp* for the entry's whole TTL
 * by its own monotonic clock, counted from the reply that first showed it (the Amazon DynamoDB
 * lock client method, as `@lock/docstore` uses on DynamoDB and MongoDB). A holder counts its own
 * validity from when it sent the request that wrote its stamp, which is before any observer can
 * have seen it, so the holder always gives up first (clock rates differing by up to core's
 * `driftFactor` aside). Clock skew between machines changes nothing; the cost is that an observer
 * that has just started waits one full TTL before it frees a crashed holder's permits.
 */
export class RecordSemaphores implements SemaphoreOps {
  readonly #backend: LockBackend;
  readonly #clock: Clock;
  /** Per key: when this process first saw each (owner, stamp), on its monotonic clock. */
  readonly #seen = new Map<string, Map<string, number>>();
  /** Per key with a compare-and-set round under way: the calls waiting for the next round. */
  readonly #queued = new Map<string, QueuedCommands[]>();

  constructor(backend: LockBackend, clock: Clock) {
    this.#backend = backend;
    this.#clock = clock;
  }

  acquire(request: SemaphoreAcquireRequest): Promise<SemaphoreAcquireResult> {
    return this.#apply(request.key, { op: 'acquire', request }) as Promise<SemaphoreAcquireResult>;
  }

  extend({ key, owner, ttlMs }: ExtendRequest): Promise<SemaphoreOwnerResult> {
    return this.#apply(key, { op: 'extend', owner, ttlMs }) as Promise<SemaphoreOwnerResult>;
  }

  /**
   * Extends many holdings (a keepalive tick) with one read → decide → write loop per key, every
   * extend of that key applied to the same record: N permits of one key held here cost one
   * compare-and-set, not N that conflict with one another (on memcached, 400 permits of one key
   * renewed one by one made 20,000 conflicting writes and 220 of them gave up after
   * {@link MAX_ROUNDS} rounds). Rejects if any key's loop fails, once every key's has settled.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<SemaphoreOwnerResult[]> {
    const results = new Array<SemaphoreOwnerResult>(requests.length);
    const byKey = new Map<string, number[]>();
    for (const [index, { key }] of requests.entries()) {
      const indexes = byKey.get(key);
      if (indexes === undefined) byKey.set(key, [index]);
      else indexes.push(index);
    }
    const settled = await Promise.allSettled(
      [...byKey].map(async ([key, indexes]) => {
        const commands = indexes.map((index): SemaphoreCommand => {
          const { owner, ttlMs } = requests[index] as ExtendRequest;
          return { op: 'extend', owner, ttlMs };
        });
        const replies = await this.#enqueue(key, commands);
        for (const [n, index] of indexes.entries()) {
          results[index] = replies[n] as SemaphoreOwnerResult;
        }
      }),
    );
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return results;
  }

  release({ key, owner }: ReleaseRequest): Promise<SemaphoreOwnerResult> {
    return this.#apply(key, { op: 'release', owner }) as Promise<SemaphoreOwnerResult>;
  }

  async inspect(key: string): Promise<BackendSemaphoreInfo | undefined> {
    const record = await this.#read(key);
    const now = this.#clock.now();
    return describeSemaphore(this.#stateOf(key, record?.stored, now), now);
  }

  async #apply(
    key: string,
    command: SemaphoreCommand,
  ): Promise<SemaphoreAcquireResult | SemaphoreOwnerResult> {
    return (await this.#enqueue(key, [command]))[0] as SemaphoreAcquireResult;
  }

  /**
   * Runs `commands` in this process's next compare-and-set round on `key`. One round runs per key
   * at a time, and every call made while it runs joins the next one: many calls of one process
   * on one key (a close() releasing hundreds of permits, a keepalive tick beside a release) cost
   * one read and one write a round instead of racing one another's writes (on memcached, 400
   * concurrent releases of one key each made conflicting writes and half gave up after
   * {@link MAX_ROUNDS} rounds). Commands apply in the order they were made.
   */
  #enqueue(
    key: string,
    commands: readonly SemaphoreCommand[],
  ): Promise<(SemaphoreAcquireResult | SemaphoreOwnerResult)[]> {
    return new Promise((resolve, reject) => {
      const waiting = this.#queued.get(key);
      if (waiting !== undefined) {
        waiting.push({ commands, resolve, reject });
        return;
      }
      this.#queued.set(key, []);
      void this.#rounds(key, [{ commands, resolve, reject }]);
    });
  }

  /** Runs rounds on `key` until no call waits for one. */
  async #rounds(key: string, first: QueuedCommands[]): Promise<void> {
    let batch = first;
    while (batch.length > 0) {
      try {
        const replies = await this.#applyAll(
          key,
          batch.flatMap((call) => call.commands),
        );
        let at = 0;
        for (const call of batch) {
          call.resolve(replies.slice(at, at + call.commands.length));
          at += call.commands.length;
        }
      } catch (error) {
        for (const call of batch) call.reject(error);
      }
      batch = this.#queued.get(key) ?? [];
      if (batch.length === 0) this.#queued.delete(key);
      else this.#queued.set(key, []);
    }
  }

  /** Applies `commands` in order to one read of the record, written back once if any changed it. */
  async #applyAll(
    key: string,
    commands: readonly SemaphoreCommand[],
  ): Promise<(SemaphoreAcquireResult | SemaphoreOwnerResult)[]> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = await this.#read(key);
      const now = this.#clock.now();
      const state = this.#stateOf(key, record?.stored, now);
      let next = state ?? freshRecord(commands);
      let changed = false;
      const replies = commands.map((command) => {
        const decision =
          command.op === 'acquire'
            ? decideSemaphore(next, command, now)
            : decideSemaphore(next, command, now);
        if (decision.changed && decision.state !== undefined) {
          changed = true;
          next = decision.state;
        }
        return decision.reply;
      });
      if (!changed || next === undefined) return replies;
      const stored = toStored(next, state, record?.stored);
      const written = await this.#write(key, JSON.stringify(stored), record?.version);
      if (written === 'ok') {
        this.#sawOwnWrite(key, stored);
        return replies;
      }
      // Someone wrote in between: decide again on what they wrote, backing off when crowded.
      if (round >= 2) await this.#pause(backoffDelay(round - 2, 1, 50));
    }
    throw new BackendError(
      `semaphore ${quoteKey(key)}: the record kept changing under ${MAX_ROUNDS} compare-and-set rounds`,
      { key },
    );
  }

  async #read(
    key: string,
  ): Promise<{ stored: StoredRecord; version: VersionedRecord['version'] } | undefined> {
    const record = await (this.#backend.readRecord as NonNullable<LockBackend['readRecord']>).call(
      this.#backend,
      key,
    );
    if (record === undefined) return undefined;
    let stored: StoredRecord;
    try {
      stored = JSON.parse(record.value) as StoredRecord;
    } catch (error) {
      throw new BackendError(`semaphore ${quoteKey(key)}: its record is not JSON`, {
        key,
        cause: error,
      });
    }
    if (stored?.v !== 1 || !Array.isArray(stored.holders) || !Array.isArray(stored.waiters)) {
      throw new BackendError(`semaphore ${quoteKey(key)}: its record is not a semaphore record`, {
        key,
      });
    }
    return { stored, version: record.version };
  }

  /**
   * Our write landed before its reply came: its new entries count as seen now, not at our next
   * read (a waiter then judges its own place's age as others do, and refreshes it in time).
   */
  #sawOwnWrite(key: string, written: StoredRecord): void {
    const now = this.#clock.now();
    const seen = this.#seen.get(key) ?? new Map<string, number>();
    for (const e of [...written.holders, ...written.waiters]) {
      if (e.s === written.seq) seen.set(`${e.s}:${e.o}`, now);
    }
    this.#seen.set(key, seen);
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimeout(resolve, ms));
  }

  #write(key: string, value: string, version: string | undefined): Promise<'ok' | 'conflict'> {
    return (this.#backend.writeRecord as NonNullable<LockBackend['writeRecord']>).call(
      this.#backend,
      key,
      value,
      version,
    );
  }

  /**
   * The record in the rules' terms: each entry expires one TTL after this process first saw its
   * stamp. Forgets the stamps no longer in the record.
   */
  #stateOf(key: string, stored: StoredRecord | undefined, now: number): SemaphoreState | undefined {
    if (stored === undefined) {
      this.#seen.delete(key);
      return undefined;
    }
    const previous = this.#seen.get(key);
    const seen = new Map<string, number>();
    const entry = (e: StoredEntry): SemaphoreEntry => {
      const id = `${e.s}:${e.o}`;
      const since = previous?.get(id) ?? now;
      seen.set(id, since);
      return { owner: e.o, count: e.c, mode: e.m, fence: e.f, ttlMs: e.t, expiresAt: since + e.t };
    };
    const state: SemaphoreState = {
      kind: stored.kind,
      permits: stored.permits,
      fence: stored.fence,
      holders: stored.holders.map(entry),
      waiters: stored.waiters.map(entry),
    };
    if (seen.size > 0) this.#seen.set(key, seen);
    else this.#seen.delete(key);
    return state;
  }
}

/**
 * The record to write for `next`: entries the rules left untouched (the same objects as in
 * `before`) keep their stamp; new and renewed ones get a fresh one.
 */
function toStored(
  next: SemaphoreState,
  before: SemaphoreState | undefined,
  stored: StoredRecord | undefined,
): StoredRecord {
  const stamps = new Map<SemaphoreEntry, number>();
  if (before !== undefined && stored !== undefined) {
    // `before` was read from `stored`, entry for entry, in order.
    for (const [i, e] of before.holders.entries()) {
      stamps.set(e, (stored.holders[i] as StoredEntry).s);
    }
    for (const [i, e] of before.waiters.entries()) {
      stamps.set(e, (stored.waiters[i] as StoredEntry).s);
    }
  }
  const seq = (stored?.seq ?? 0) + 1;
  const store = (e: SemaphoreEntry): StoredEntry => ({
    o: e.owner,
    c: e.count,
    m: e.mode,
    f: e.fence,
    t: e.ttlMs,
    s: stamps.get(e) ?? seq,
  });
  return {
    v: 1,
    kind: next.kind,
    permits: next.permits,
    fence: next.fence,
    seq,
    holders: next.holders.map(store),
    waiters: next.waiters.map(store),
  };
}

/**
 * The state a record starts from when there is none: empty, taking the first acquire's kind and
 * permit count, with its fence counter at the wall-clock time in microseconds. A record that is
 * lost (a memcached restart or eviction) is recreated this way, so its next fences stay above the
 * old ones as long as the old record handed out fewer fences than microseconds passed between the
 * two clock readings, as memcached's mutex counter does (its README states the condition). A
 * record that is never lost only starts high. `undefined` when no command acquires.
 */
function freshRecord(commands: readonly SemaphoreCommand[]): SemaphoreState | undefined {
  const first = commands.find((command) => command.op === 'acquire');
  if (first?.op !== 'acquire') return undefined;
  return {
    kind: kindOf(first.request.mode),
    permits: first.request.permits,
    fence: Date.now() * 1000,
    holders: [],
    waiters: [],
  };
}
