import { randomBytes } from 'node:crypto';
import type { LockBackend, OwnerCheckedResult } from '@lock/core';
import type { AcquireOptions, HoldHandle, LockClient } from '../worker/client.js';
import type { ClientFlaw } from '../worker/protocol.js';

/** Loss is declared this long before validity runs out, so a slightly late timer still fires in time. */
const LOSS_LEAD_MS = 10;
/** Shortest wait before retrying a failed renewal. */
const MIN_RETRY_MS = 5;

/** Options of a {@link MiniLocker}. */
export interface MiniLockerOptions {
  readonly identity: string;
  /** Deadline of each backend call, ms (ignored with the `no-deadline` flaw). */
  readonly callDeadlineMs: number;
  /** The deliberate flaws; none makes a correct client, the control. */
  readonly flaws: readonly ClientFlaw[];
}

/** A library error as the worker reads it: a `code` like `@lock/core`'s. */
class MiniError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A deliberately small lock client over a {@link LockBackend}, with switchable flaws, so the
 * chaos checkers can be shown to catch each kind of broken library (issue #9). Without flaws it
 * is a correct client: validity counted from the send of the latest confirmed request, capped
 * by the smallest TTL of any request that may still land after it; one renewal in flight per
 * lock; a loss timer with a lead; an own deadline on every call; backoff polling while waiting.
 * It is not `@lock/core` on purpose: the flaws are the kind of code core must never have.
 */
export class MiniLocker implements LockClient {
  readonly #backend: LockBackend;
  readonly #options: MiniLockerOptions;
  readonly #flaws: ReadonlySet<ClientFlaw>;
  readonly #holds = new Set<MiniHold>();

  constructor(backend: LockBackend, options: MiniLockerOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#flaws = new Set(options.flaws);
  }

  async lock(key: string, options: AcquireOptions & { timeoutMs: number }): Promise<HoldHandle> {
    const deadline = performance.now() + options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0) throw new MiniError('TIMEOUT', `lock "${key}" timed out`);
      const hold = await this.#attempt(key, options, Math.min(left, this.#options.callDeadlineMs));
      if (hold !== undefined) return hold;
      const backoff = Math.min(50, 5 * 2 ** attempt) * (0.5 + Math.random() / 2);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(backoff, Math.max(0, deadline - performance.now()))),
      );
    }
  }

  tryLock(key: string, options: AcquireOptions): Promise<HoldHandle | undefined> {
    return this.#attempt(key, options, this.#options.callDeadlineMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#holds].map((hold) => hold.release().catch(() => {})));
    await this.#backend.close();
  }

  async #attempt(
    key: string,
    options: AcquireOptions,
    deadlineMs: number,
  ): Promise<MiniHold | undefined> {
    const owner = `${this.#options.identity}.${randomBytes(16).toString('hex')}`;
    const sentAt = performance.now();
    const reply = this.#backend.acquire({ key, owner, ttlMs: options.ttlMs });
    let result: Awaited<typeof reply>;
    try {
      result = await this.within(reply, deadlineMs, `acquire of "${key}"`);
    } catch (error) {
      // Unknown outcome: it may have landed. Free it if it did (owner-checked, best effort).
      reply.then(
        (late) => {
          if (late.acquired) this.#backend.release({ key, owner }).catch(() => {});
        },
        () => {},
      );
      throw error;
    }
    if (!result.acquired) return undefined;
    const from = this.#flaws.has('validity-from-reply') ? performance.now() : sentAt;
    const hold = new MiniHold(this, key, owner, result.fence, options, from);
    this.#holds.add(hold);
    return hold;
  }

  /** The backend, for the holds. */
  get backend(): LockBackend {
    return this.#backend;
  }

  /** Whether this client has `flaw`. */
  has(flaw: ClientFlaw): boolean {
    return this.#flaws.has(flaw);
  }

  /** Forgets a hold that ended. */
  forget(hold: MiniHold): void {
    this.#holds.delete(hold);
  }

  /** `promise`, or a `BACKEND` error after `ms` (unless this client has the `no-deadline` flaw). */
  within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    if (this.#flaws.has('no-deadline')) return promise;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new MiniError('BACKEND', `${what} got no reply in ${Math.round(ms)} ms`)),
        Math.max(1, ms),
      );
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  /** Deadline of one backend call. */
  get callDeadlineMs(): number {
    return this.#options.callDeadlineMs;
  }
}

/** A request that may still land (it timed out without a reply). */
interface Pending {
  readonly ttlMs: number;
}

/** One held lock of a {@link MiniLocker}. */
class MiniHold implements HoldHandle {
  readonly fence: number;
  readonly owner: string;
  readonly #key: string;
  readonly #client: MiniLocker;
  readonly #onLost: (reason: string) => void;
  #ttlMs: number;
  #validUntil: number;
  #state: 'held' | 'lost' | 'released' = 'held';
  #renewing: Promise<void> | undefined;
  readonly #pending = new Set<Pending>();
  #keepalive: ReturnType<typeof setTimeout> | undefined;
  #lossTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    client: MiniLocker,
    key: string,
    owner: string,
    fence: number,
    options: AcquireOptions,
    validFrom: number,
  ) {
    this.#client = client;
    this.#key = key;
    this.owner = owner;
    this.fence = fence;
    this.#onLost = options.onLost;
    this.#ttlMs = options.ttlMs;
    this.#validUntil = validFrom + options.ttlMs - drift(options.ttlMs);
    this.#scheduleKeepalive();
    this.#scheduleLossCheck();
  }

  validUntil(): number {
    return this.#validUntil;
  }

  held(): boolean {
    if (!this.#client.has('slow-poll-loss')) this.#checkExpiry();
    return this.#state === 'held';
  }

  async extend(ttlMs?: number): Promise<void> {
    if (!this.held()) throw new MiniError('LOST', `lock "${this.#key}" was lost`);
    const ttl = ttlMs ?? this.#ttlMs;
    if (!this.#client.has('keepalive-overwrites-extend')) {
      // One request in flight per lock: wait for a renewal under way before sending.
      while (this.#renewing !== undefined) await this.#renewing.catch(() => {});
    }
    const run = this.#renew(ttl);
    this.#renewing = run;
    try {
      await run;
    } finally {
      if (this.#renewing === run) this.#renewing = undefined;
    }
    if (this.#state !== 'held') throw new MiniError('LOST', `lock "${this.#key}" was lost`);
    if (ttl !== this.#ttlMs) {
      this.#ttlMs = ttl;
      this.#scheduleKeepalive();
    }
  }

  async release(): Promise<void> {
    if (this.#state === 'released') return;
    if (!this.held()) throw new MiniError('LOST', `lock "${this.#key}" was lost`);
    this.#state = 'released';
    this.#stop();
    const result = await this.#client.within(
      this.#client.backend.release({ key: this.#key, owner: this.owner }),
      this.#client.callDeadlineMs,
      `release of "${this.#key}"`,
    );
    if (result === 'not-found')
      throw new MiniError('NOT_FOUND', `lock "${this.#key}" was not held`);
    if (result === 'forbidden')
      throw new MiniError('FORBIDDEN', `lock "${this.#key}" is someone else's`);
  }

  /** Sends one renewal with `ttl`; confirms, or loses the lock when the backend refuses it. */
  async #renew(ttl: number): Promise<void> {
    const sentAt = performance.now();
    const pending: Pending = { ttlMs: ttl };
    this.#pending.add(pending);
    const reply = this.#client.backend.extend({ key: this.#key, owner: this.owner, ttlMs: ttl });
    // A reply that comes after our deadline still tells us the request is no longer pending.
    reply.then(
      () => this.#pending.delete(pending),
      () => this.#pending.delete(pending),
    );
    const deadline = Math.max(
      MIN_RETRY_MS,
      Math.min(this.#client.callDeadlineMs, this.#validUntil - sentAt),
    );
    const result: OwnerCheckedResult = await this.#client.within(
      reply,
      deadline,
      `extend of "${this.#key}"`,
    );
    this.#pending.delete(pending);
    if (result !== 'ok') {
      this.#lose('refused');
      return;
    }
    this.#confirm(sentAt, ttl);
  }

  #confirm(sentAt: number, ttl: number): void {
    if (!this.#client.has('slow-poll-loss')) this.#checkExpiry();
    if (this.#state !== 'held') return;
    if (this.#client.has('keepalive-overwrites-extend')) {
      const from = this.#client.has('validity-from-reply') ? performance.now() : sentAt;
      this.#validUntil = Math.max(this.#validUntil, from + ttl - drift(ttl));
    } else {
      // This request was the last one applied unless a timed-out one lands after it; such a
      // request sets a TTL of its own from its arrival, after `sentAt`.
      const shortest = Math.min(ttl, ...[...this.#pending].map((p) => p.ttlMs));
      const from = this.#client.has('validity-from-reply') ? performance.now() : sentAt;
      this.#validUntil = from + shortest - drift(shortest);
    }
    this.#scheduleLossCheck();
  }

  #scheduleKeepalive(): void {
    clearTimeout(this.#keepalive);
    const interval = this.#ttlMs / 3;
    const tick = (delay: number) => {
      this.#keepalive = setTimeout(() => {
        if (this.#state !== 'held') return;
        if (this.#renewing !== undefined && !this.#client.has('keepalive-overwrites-extend')) {
          tick(interval);
          return;
        }
        const run = this.#renew(this.#ttlMs);
        this.#renewing = run;
        run
          .then(
            () => tick(interval),
            () =>
              tick(
                Math.max(
                  MIN_RETRY_MS,
                  Math.min(interval, (this.#validUntil - performance.now()) / 3),
                ),
              ),
          )
          .finally(() => {
            if (this.#renewing === run) this.#renewing = undefined;
          });
      }, delay);
    };
    tick(interval);
  }

  #scheduleLossCheck(): void {
    if (this.#client.has('slow-poll-loss')) {
      // The flaw: nobody looks at the clock but a poll every two TTLs, on its own beat from
      // the grant (renewals do not move it).
      if (this.#lossTimer !== undefined || this.#state !== 'held') return;
      const poll = () => {
        if (this.#state !== 'held') return;
        if (performance.now() >= this.#validUntil) this.#lose('expired');
        else this.#lossTimer = setTimeout(poll, 2 * this.#ttlMs);
      };
      this.#lossTimer = setTimeout(poll, 2 * this.#ttlMs);
      return;
    }
    clearTimeout(this.#lossTimer);
    if (this.#state !== 'held') return;
    this.#lossTimer = setTimeout(
      () => {
        this.#checkExpiry();
        if (this.#state === 'held') this.#scheduleLossCheck();
      },
      Math.max(0, this.#validUntil - LOSS_LEAD_MS - performance.now()),
    );
  }

  #checkExpiry(): void {
    if (this.#state === 'held' && performance.now() >= this.#validUntil - LOSS_LEAD_MS) {
      this.#lose('expired');
    }
  }

  #lose(reason: string): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#stop();
    this.#onLost(reason);
  }

  #stop(): void {
    clearTimeout(this.#keepalive);
    clearTimeout(this.#lossTimer);
    this.#client.forget(this);
  }
}

/** Same drift margin as `@lock/core`: 1 % of the TTL plus 2 ms. */
function drift(ttlMs: number): number {
  return ttlMs * 0.01 + 2;
}
