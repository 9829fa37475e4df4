/**
 * What a {@link Lease} needs from the backend: one keepalive round trip that renews lease `id`
 * once and resolves its new TTL in seconds (≤ 0 when the lease is gone).
 */
export type KeepAliveOnce = (id: string) => Promise<number>;

/** The lease expired or was revoked: every key attached to it is gone. */
export class LeaseGoneError extends Error {
  constructor() {
    super('the etcd lease expired or was revoked');
    this.name = 'LeaseGoneError';
  }
}

/**
 * One etcd lease, shared by every lock and waiter of one owner identity and TTL (etcd's
 * `concurrency.Session`). It tracks `confirmedAt`: when (on this process's monotonic clock) the
 * last renewal that etcd confirmed was *sent*. The server keeps the lease at least until
 * `confirmedAt + grantedMs`, since it counts the TTL from when it received that renewal.
 *
 * Renewals are coalesced: a caller asks for the lease to be valid until some time, and shares a
 * renewal already in flight when that one is recent enough.
 */
export class Lease {
  /** The lease ID, as etcd's decimal string. */
  readonly id: string;
  /** The TTL etcd granted (it rounds up to whole seconds and to its minimum), in ms. */
  readonly grantedMs: number;
  /** Send time of the last confirmed renewal (or of the grant), by `performance.now()`. */
  confirmedAt: number;
  /**
   * Uses of this lease in this process: locks held on it, waiters queued on it, and writes
   * pending on it (an acquire counts from the moment the pool hands the lease out, not only once
   * its transaction returns). A lease in use is never revoked by the pool.
   */
  users = 0;
  /**
   * A write on this lease has an unknown outcome (it got no reply, and may still land after its
   * clean-up looked): the lease may carry an entry nobody tracks, which lives as long as the
   * lease is renewed. The pool hands it out no more, the locks on it move to a fresh lease at
   * their next renewal, and it is revoked once nothing uses it (see `LeasePool.poison`).
   */
  poisoned = false;
  #dead = false;
  #waiters = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #inflight: { sentAt: number; done: Promise<void> } | undefined;
  readonly #keepAlive: KeepAliveOnce;
  readonly #onRenewal: () => void;

  constructor(
    id: string,
    grantedSeconds: number,
    sentAt: number,
    keepAlive: KeepAliveOnce,
    onRenewal: () => void = () => {},
  ) {
    this.id = id;
    this.grantedMs = grantedSeconds * 1000;
    this.confirmedAt = sentAt;
    this.#keepAlive = keepAlive;
    this.#onRenewal = onRenewal;
  }

  /** True once etcd said the lease is gone (or it was revoked by us). */
  get dead(): boolean {
    return this.#dead;
  }

  /** Marks the lease gone and stops its background renewals. */
  kill(): void {
    this.#dead = true;
    this.#stopTimer();
  }

  /** Latest time (by `performance.now()`) until which etcd certainly keeps the lease. */
  get validUntil(): number {
    return this.confirmedAt + this.grantedMs;
  }

  /** Whether nothing of this process uses the lease any more (see {@link users}). */
  get idle(): boolean {
    return this.users === 0;
  }

  /**
   * Resolves once etcd has confirmed a renewal that keeps the lease until at least `until`
   * (by `performance.now()`); at once if an earlier one already does.
   * @throws {LeaseGoneError} when the lease no longer exists.
   */
  ensureValidUntil(until: number): Promise<void> {
    if (this.#dead) return Promise.reject(new LeaseGoneError());
    if (this.validUntil >= until) return Promise.resolve();
    const inflight = this.#inflight;
    if (inflight !== undefined && inflight.sentAt + this.grantedMs >= until) {
      return inflight.done.then(() => this.ensureValidUntil(until));
    }
    return this.renew();
  }

  /** Sends one keepalive now. */
  renew(): Promise<void> {
    if (this.#dead) return Promise.reject(new LeaseGoneError());
    const sentAt = performance.now();
    this.#onRenewal();
    const done = this.#keepAlive(this.id).then((ttl) => {
      if (ttl <= 0) {
        this.kill();
        throw new LeaseGoneError();
      }
      this.confirmedAt = Math.max(this.confirmedAt, sentAt);
    });
    const entry = { sentAt, done };
    this.#inflight = entry;
    const clear = () => {
      if (this.#inflight === entry) this.#inflight = undefined;
    };
    done.then(clear, clear);
    return done;
  }

  /**
   * A waiter joined (it also counts as a user, through the pool): while any waits, the lease is
   * renewed in the background every third of its TTL, since core keeps alive only locks it
   * holds. Held locks are renewed by core's keepalive (through `extendMany`), so a holder that
   * stops renewing loses its lock by TTL.
   */
  addWaiter(): void {
    this.#waiters += 1;
    if (this.#timer !== undefined || this.#dead) return;
    this.#timer = setInterval(
      () => {
        this.renew().catch(() => {});
      },
      Math.max(50, this.grantedMs / 3),
    );
    this.#timer.unref?.();
  }

  /** A waiter left (granted, aborted or failed). */
  removeWaiter(): void {
    this.#waiters = Math.max(0, this.#waiters - 1);
    if (this.#waiters === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
