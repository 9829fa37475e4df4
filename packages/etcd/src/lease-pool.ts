import { type KeepAliveOnce, Lease } from './lease.js';

/** TTLs from this long up get {@link LEASE_HEADROOM_MS} more on their lease (see {@link leaseSecondsFor}). */
export const HEADROOM_FROM_TTL_MS = 5_000;

/** How much longer than the lock's TTL the lease of a TTL of {@link HEADROOM_FROM_TTL_MS} or more is. */
export const LEASE_HEADROOM_MS = 1_000;

/**
 * The lease TTL, in whole seconds, to ask etcd for on behalf of locks of `ttlMs`: the TTL rounded
 * up, plus {@link LEASE_HEADROOM_MS} for TTLs of {@link HEADROOM_FROM_TTL_MS} or more.
 *
 * Core counts an acquired lock valid for its TTL from when the acquire was *sent*, and etcd
 * keeps the lock's entry as long as its lease: a full lease TTL from the last renewal it
 * received. With a lease exactly as long as the lock, only a renewal sent after the acquire
 * started can cover it, so every acquire would cost a keepalive message besides its
 * transaction. The headroom lets a renewal sent up to a second before the acquire cover it
 * (the acquire checks that by this process's clock, `Lease.ensureValidUntil`, and renews only
 * when it does not), so a stream of acquires costs about one keepalive per second however many
 * there are. Its price: a crashed holder's lock is freed up to a second later. Below
 * {@link HEADROOM_FROM_TTL_MS} that second would be more than a fifth of the TTL, so short TTLs
 * get none (beyond their rounding up), and each acquire renews the lease as before.
 */
export function leaseSecondsFor(ttlMs: number): number {
  const headroom = ttlMs >= HEADROOM_FROM_TTL_MS ? LEASE_HEADROOM_MS : 0;
  return Math.max(1, Math.ceil((ttlMs + headroom) / 1000));
}

/** What the pool needs from the backend: grant and revoke round trips. */
export interface LeaseRpc {
  /** Grants a lease of `seconds`; resolves its ID and the TTL etcd actually granted. */
  grant(seconds: number): Promise<{ id: string; ttlSeconds: number }>;
  /** Renews a lease once (see {@link KeepAliveOnce}). */
  keepAlive: KeepAliveOnce;
  /** Revokes a lease, deleting its keys. */
  revoke(id: string): Promise<void>;
}

/**
 * One current lease per (owner identity, TTL): every lock and waiter of one core locker (or
 * session) with one TTL shares it, so one keepalive renews all of them. A lease that has gone
 * unrenewed for half its TTL is not handed out again (it may expire under a new key); a fresh
 * one is granted, and the old one is revoked once nothing uses it.
 *
 * Every lease handed out carries one use for its caller, taken before the caller can write
 * anything on it and given back with {@link release}: so a lease with a write pending on it (an
 * acquire whose transaction has not returned yet) is in use, and never revoked under it.
 */
export class LeasePool {
  readonly #rpc: LeaseRpc;
  readonly #onRenewal: () => void;
  readonly #current = new Map<string, Lease>();
  readonly #granting = new Map<string, Promise<Lease>>();
  readonly #all = new Set<Lease>();

  constructor(rpc: LeaseRpc, onRenewal: () => void) {
    this.#rpc = rpc;
    this.#onRenewal = onRenewal;
  }

  /**
   * The lease for `identity` and `ttlMs`, granting one when there is none fit for use, with one
   * use taken for the caller: hand it back with {@link release} (a lock adopted on the lease
   * keeps it until it is forgotten).
   */
  lease(identity: string, ttlMs: number): Promise<Lease> {
    const id = `${ttlMs}\u0000${identity}`;
    const lease = this.#current.get(id);
    if (
      lease !== undefined &&
      !lease.dead &&
      performance.now() < lease.confirmedAt + lease.grantedMs / 2
    ) {
      lease.users += 1;
      return Promise.resolve(lease);
    }
    if (lease !== undefined) {
      this.#current.delete(id);
      this.#revokeIfUnused(lease);
    }
    let granting = this.#granting.get(id);
    if (granting === undefined) {
      granting = this.#grant(leaseSecondsFor(ttlMs)).then(
        (granted) => {
          this.#granting.delete(id);
          this.#current.set(id, granted);
          return granted;
        },
        (error: unknown) => {
          this.#granting.delete(id);
          throw error;
        },
      );
      this.#granting.set(id, granting);
    }
    return granting.then((granted) => {
      granted.users += 1;
      return granted;
    });
  }

  /**
   * Gives back one use of `lease` (see {@link lease}); revokes it in the background once nothing
   * uses it and it is no longer current.
   */
  release(lease: Lease): void {
    lease.users = Math.max(0, lease.users - 1);
    this.#revokeIfUnused(lease);
  }

  /** The live lease with etcd ID `id` that this pool granted, if any. */
  find(id: string): Lease | undefined {
    for (const lease of this.#all) if (lease.id === id && !lease.dead) return lease;
    return undefined;
  }

  /** Takes one more use of `lease` (one this pool granted), to give back with {@link release}. */
  use(lease: Lease): void {
    lease.users += 1;
  }

  /**
   * Marks `lease` poisoned (see {@link Lease.poisoned}): it is handed out no more, and revoked
   * (which deletes every entry on it, and makes a write that lands later fail) as soon as nothing
   * uses it. The backend moves the locks held on it to a fresh lease at their next renewal.
   */
  poison(lease: Lease): void {
    lease.poisoned = true;
    for (const [id, current] of this.#current) {
      if (current === lease) this.#current.delete(id);
    }
    this.#revokeIfUnused(lease);
  }

  #revokeIfUnused(lease: Lease): void {
    if (!lease.idle || [...this.#current.values()].includes(lease)) return;
    this.#all.delete(lease);
    if (lease.dead) return;
    lease.kill();
    this.#rpc.revoke(lease.id).catch(() => {
      // It expires by its TTL anyway.
    });
  }

  /** Revokes every lease this pool granted (on close): their keys go at once. */
  async revokeAll(): Promise<void> {
    const leases = [...this.#all];
    this.#all.clear();
    this.#current.clear();
    await Promise.all(
      leases.map(async (lease) => {
        const wasDead = lease.dead;
        lease.kill();
        if (!wasDead) await this.#rpc.revoke(lease.id).catch(() => {});
      }),
    );
  }

  async #grant(seconds: number): Promise<Lease> {
    const sentAt = performance.now();
    const { id, ttlSeconds } = await this.#rpc.grant(seconds);
    const lease = new Lease(id, ttlSeconds, sentAt, this.#rpc.keepAlive, this.#onRenewal);
    this.#all.add(lease);
    return lease;
  }
}
