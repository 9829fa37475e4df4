/**
 * The designs considered for this backend, measured side by side against one etcd (see the
 * README's "Why the sharing"): the shipped backend (one lease shared by a locker's locks) and
 * {@link LeasePerLockBackend} (a lease per lock, granted in the acquire or ahead of need).
 * Run from the package:
 *
 *     npx tsx --expose-gc --conditions=source bench/designs.ts http://127.0.0.1:2379
 *
 * The shared folder watch was compared with Go's recipe (each waiter watches its predecessor
 * and reads again after its delete) by a variant of `queue-wait.ts` that is not kept; its
 * figures are in the README.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createLocker, type LockBackend } from '@lock/core';
import { EtcdBackend } from '../src/index.js';
import { contend, holdMany, rate } from './etcd-bench.js';
import { LeasePerLockBackend } from './lease-per-lock.js';

const PHASE_MS = 2_000;

interface Design {
  readonly name: string;
  readonly open: (prefix: string) => LockBackend;
  readonly keepalives: (backend: LockBackend) => number;
}

/** Measures each design in turn against `hosts`; prints one line of figures per design. */
export async function compareDesigns(hosts: string): Promise<void> {
  const designs: Design[] = [
    {
      name: 'shared lease (shipped)',
      open: (prefix) => new EtcdBackend({ hosts, prefix }),
      keepalives: (backend) => (backend as EtcdBackend).stats.keepalives,
    },
    ...[0, 64].map((spares) => ({
      name: spares === 0 ? 'lease per lock, granted in acquire' : `lease per lock, ${spares} ahead`,
      open: (prefix: string) => new LeasePerLockBackend({ hosts, prefix, spares }),
      keepalives: (backend: LockBackend) => (backend as LeasePerLockBackend).keepalives,
    })),
  ];
  for (const design of designs) {
    const prefix = `designs-${randomBytes(4).toString('hex')}/`;
    const locker = createLocker(design.open(prefix), { ttl: 10_000, onError: () => {} });
    const serial = await rate(PHASE_MS, 1, async (i) => {
      await (await locker.tryLock(`serial-${i % 16}`)).release();
    });
    const parallel = await rate(PHASE_MS, 50, async (_i, worker) => {
      await (await locker.lock(`parallel-${worker}`)).release();
    });
    const contended = await contend(PHASE_MS, 10, async () => {
      const lock = await locker.lock('contended', { timeout: 10_000 });
      return () => lock.release();
    });
    await locker.close();
    const backend = design.open(prefix);
    // TTL 15 s as in `pnpm bench`: with 3 s, 10,000 leases of their own were not kept alive here.
    const many = await holdMany(backend, () => design.keepalives(backend), 15_000);
    console.log(
      `${design.name}: ${serial} pairs/s at 1, ${parallel} at 50; contended ` +
        `${contended.acquisitionsPerSec} acq/s, wait p50 ${contended.waitP50Ms} ms; ` +
        `${many.locks} held: ${many.keepalivesPerSec} keepalive msgs/s, ` +
        `${many.heapBytesPerLock} B heap per lock, taken in ${many.acquireSeconds} s`,
    );
  }
}

compareDesigns(process.argv[2] ?? 'http://127.0.0.1:2379').then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
