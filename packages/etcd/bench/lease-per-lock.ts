/**
 * A design considered and measured, not shipped: **one etcd lease per lock** instead of one
 * lease shared by every lock of a locker. It needs no holder counting, no lease move on extend
 * and no cleanup of entries left on a shared lease (revoking the lock's own lease is its
 * release, and the cleanup of any write with an unknown outcome), at the cost of one lease
 * grant per acquire (or one granted ahead of need), one revoke per release and one keepalive
 * message per held lock per tick. `bench/designs.ts` measures it against the shipped backend.
 *
 * Enough of a backend for the uncontended and many-held workloads (acquire, release, extend);
 * no queue (core's try-and-wait loop runs instead), no inspect of a holder's remaining TTL.
 * @module
 */
import type {
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  ReleaseRequest,
} from '@lock/core';
import type { Etcd3 } from 'etcd3';
import { AttemptTracker } from '../src/attempts.js';
import { withDeadline } from '../src/call.js';
import { createClient } from '../src/client.js';
import { KeepAliveChannel } from '../src/keepalive-channel.js';
import { KeyLayout } from '../src/keys.js';
import { firstIn, putIfEmpty } from '../src/kv-ops.js';
import { Lease } from '../src/lease.js';
import { resolveOptions } from '../src/options.js';
import { TxnBatcher } from '../src/txn-batcher.js';

interface PerLockHolding {
  readonly key: string;
  readonly lease: Lease;
}

/** Options of {@link LeasePerLockBackend}. */
export interface LeasePerLockOptions {
  readonly hosts: string;
  readonly prefix: string;
  /** Leases kept granted ahead of need (0: grant one in each acquire). */
  readonly spares: number;
}

/** The lease-per-lock design (see the module comment). */
export class LeasePerLockBackend implements LockBackend {
  readonly name = 'etcd-lease-per-lock';
  /** Lease keepalive messages sent. */
  keepalives = 0;
  readonly #client: Etcd3;
  readonly #layout: KeyLayout;
  readonly #keepAlives: KeepAliveChannel;
  readonly #batcher: TxnBatcher;
  readonly #held = new Map<string, PerLockHolding>();
  readonly #spares: Lease[] = [];
  readonly #spareTarget: number;
  #granting = 0;

  constructor(options: LeasePerLockOptions) {
    const resolved = resolveOptions({ hosts: options.hosts, prefix: options.prefix });
    this.#client = createClient(resolved, new AttemptTracker());
    this.#layout = new KeyLayout(resolved.prefix);
    this.#spareTarget = options.spares;
    this.#keepAlives = new KeepAliveChannel(() => this.#client.leaseClient.leaseKeepAlive());
    this.#batcher = new TxnBatcher(
      async (request, operation) => ({
        ...(await withDeadline(operation, 5_000, () => this.#client.kv.txn(request))),
        attempts: 0,
      }),
      () => false,
    );
  }

  async acquire({ key, owner, ttlMs }: AcquireRequest): Promise<AcquireResult> {
    const started = performance.now();
    const lease = this.#spares.pop() ?? (await this.#grant(ttlMs));
    this.#refill(ttlMs);
    const renewal = lease.ensureValidUntil(started + ttlMs);
    renewal.catch(() => {});
    const folder = this.#layout.folder(key);
    const entry = this.#layout.entry(key, lease.id, owner);
    const reply = await this.#batcher.run(
      putIfEmpty(folder, entry, owner, lease.id),
      folder.toString('latin1'),
      'acquire',
      key,
    );
    if (!reply.succeeded) {
      this.#spares.push(lease); // unused: keep it for the next acquire
      return {
        acquired: false,
        holder: reply.responses[0]?.response_range?.kvs[0]?.value.toString(),
      };
    }
    await renewal;
    this.#held.set(owner, { key, lease });
    return { acquired: true, fence: Number(reply.header.revision), ttlMs: lease.grantedMs };
  }

  async extend(request: ExtendRequest): Promise<OwnerCheckedResult> {
    const [result] = await this.extendMany([request]);
    return result as OwnerCheckedResult;
  }

  /** One keepalive message per lock: every lock has its own lease. */
  async extendMany(requests: readonly ExtendRequest[]): Promise<OwnerCheckedResult[]> {
    const started = performance.now();
    return Promise.all(
      requests.map(async ({ owner, ttlMs }) => {
        const holding = this.#held.get(owner);
        if (holding === undefined) return 'not-found';
        return holding.lease.ensureValidUntil(started + ttlMs).then(
          () => 'ok' as const,
          () => 'not-found' as const,
        );
      }),
    );
  }

  /** Revoking the lock's own lease deletes its entry: one call, owner-checked by construction. */
  async release({ owner }: ReleaseRequest): Promise<OwnerCheckedResult> {
    const holding = this.#held.get(owner);
    if (holding === undefined) return 'not-found';
    this.#held.delete(owner);
    holding.lease.kill();
    await withDeadline('lease revoke', 5_000, () =>
      this.#client.leaseClient.leaseRevoke({ ID: holding.lease.id }),
    );
    return 'ok';
  }

  async inspect(key: string): Promise<BackendLockInfo | undefined> {
    const folder = this.#layout.folder(key);
    const reply = await this.#client.kv.txn({ success: [firstIn(folder)] });
    const holder = reply.responses[0]?.response_range?.kvs[0];
    if (holder === undefined) return undefined;
    return {
      owner: holder.value.toString(),
      remainingMs: undefined,
      fence: Number(holder.create_revision),
    };
  }

  async close(): Promise<void> {
    const leases = [...this.#spares, ...[...this.#held.values()].map((h) => h.lease)];
    this.#spares.length = 0;
    this.#held.clear();
    this.#keepAlives.reset(new Error('closed'));
    await Promise.all(
      leases.map((lease) => this.#client.leaseClient.leaseRevoke({ ID: lease.id }).catch(() => {})),
    );
    this.#client.close();
  }

  /** Grants spare leases in the background up to the target. */
  #refill(ttlMs: number): void {
    while (this.#spares.length + this.#granting < this.#spareTarget) {
      this.#granting += 1;
      this.#grant(ttlMs).then(
        (lease) => {
          this.#granting -= 1;
          this.#spares.push(lease);
        },
        () => {
          this.#granting -= 1;
        },
      );
    }
  }

  async #grant(ttlMs: number): Promise<Lease> {
    const sentAt = performance.now();
    const reply = await withDeadline('lease grant', 5_000, () =>
      this.#client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlMs / 1000)) }),
    );
    return new Lease(
      reply.ID,
      Number(reply.TTL),
      sentAt,
      (id) => this.#keepAlives.keepAlive(id),
      () => {
        this.keepalives += 1;
      },
    );
  }
}
