import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, isLockError, type Locker } from '@lock/core';
import { randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/index.js';
import { type Cluster, startCluster } from './etcd-cluster.js';
import { ETCD_PROCESS } from './etcd-server.js';

const available = serverAvailable(ETCD_PROCESS);

/** One critical section, as seen by the routine that ran it. */
interface Span {
  readonly who: string;
  readonly fence: number;
  readonly start: number;
  end: number;
  /** The lock's signal aborted before the section ended: it was told it lost the lock. */
  lost: boolean;
}

(available ? describe : describe.skip)('etcd three-member cluster', () => {
  let cluster: Cluster;
  const lockers: Locker[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    await cluster?.stop();
  }, 30_000);

  it('the leader stops while a lock is held and waiters queue: one holder at a time, and the waiters proceed', async () => {
    const prefix = `${randomNamespace()}/`;
    for (let i = 0; i < 4; i++) {
      lockers.push(
        createLocker(
          new EtcdBackend({
            hosts: cluster.urls,
            prefix,
            requestTimeoutMs: 1_000,
            queuePollIntervalMs: 1_000,
          }),
          { ttl: 3_000, identity: `node-${i}`, onError: () => {} },
        ),
      );
    }
    const key = randomKey();
    const spans: Span[] = [];
    const critical = async (who: string, locker: Locker, holdMs: number) => {
      try {
        await locker.withLock(
          key,
          async (signal, lock) => {
            const span: Span = {
              who,
              fence: lock.fence,
              start: performance.now(),
              end: 0,
              lost: false,
            };
            spans.push(span);
            signal.addEventListener('abort', () => {
              span.lost = true;
            });
            await new Promise((resolve) => setTimeout(resolve, holdMs));
            span.end = performance.now();
          },
          { timeout: 25_000 },
        );
        return 'done';
      } catch (error) {
        if (isLockError(error, 'LOST')) return 'lost';
        throw error;
      }
    };

    // The holder takes the lock, five waiters queue behind it.
    const holder = critical('holder', lockers[0] as Locker, 2_500);
    await waitUntil(() => spans.length === 1);
    const waiters = Array.from({ length: 5 }, (_, i) =>
      critical(`waiter-${i}`, lockers[(i % 3) + 1] as Locker, 50),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Stop the leader while the lock is held and the waiters queue.
    const leader = await leaderIndex(cluster.urls);
    cluster.members[leader]?.process?.kill('SIGKILL');
    const outcomes = await Promise.all([holder, ...waiters]);

    // The holder kept its lock or was told it lost it; every waiter got its turn.
    expect(['done', 'lost']).toContain(outcomes[0]);
    expect(spans.map((s) => s.who).sort()).toEqual(
      ['holder', ...Array.from({ length: 5 }, (_, i) => `waiter-${i}`)].sort(),
    );
    // At most one holder at any time, judged by fences: in fence order, each section starts
    // after the previous one ended, unless the previous holder was told it had lost the lock.
    spans.sort((a, b) => a.fence - b.fence);
    for (let i = 1; i < spans.length; i++) {
      const previous = spans[i - 1] as Span;
      const current = spans[i] as Span;
      expect(current.fence).toBeGreaterThan(previous.fence);
      if (!previous.lost) expect(current.start).toBeGreaterThanOrEqual(previous.end);
    }
  }, 30_000);
});

(available ? describe : describe.skip)('etcd three-member cluster losing quorum', () => {
  let cluster: Cluster;
  const lockers: Locker[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.close()));
    await cluster?.stop();
  }, 30_000);

  it('without quorum the holder is told it lost its lock, and nobody else gets it', async () => {
    const prefix = `${randomNamespace()}/`;
    const open = (identity: string) => {
      const locker = createLocker(
        new EtcdBackend({ hosts: cluster.urls, prefix, requestTimeoutMs: 500 }),
        { ttl: 2_000, identity, onError: () => {} },
      );
      lockers.push(locker);
      return locker;
    };
    const holder = open('holder');
    const contender = open('contender');
    const key = randomKey();
    const held = await holder.lock(key, { timeout: 10_000 });
    const waiting = contender.lock(key, { timeout: 6_000 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200));
    let risked = false;
    const lost = new Promise<unknown>((resolve) => {
      held.signal.addEventListener('abort', () => resolve(held.signal.reason));
    });
    const watchRisk = setInterval(() => {
      if (held.atRisk) risked = true;
    }, 20);
    // Two of three members gone: no leader, no writes, no lease renewals.
    cluster.members[0]?.process?.kill('SIGKILL');
    cluster.members[1]?.process?.kill('SIGKILL');
    const reason = await lost;
    clearInterval(watchRisk);
    expect(isLockError(reason, 'LOST')).toBe(true);
    expect(risked).toBe(true);
    const outcome = await waiting;
    expect(isLockError(outcome, 'TIMEOUT') || isLockError(outcome, 'BACKEND')).toBe(true);
  }, 30_000);
});

async function leaderIndex(urls: string[]): Promise<number> {
  for (let i = 0; i < urls.length; i++) {
    const client = new Etcd3({ hosts: urls[i] as string });
    try {
      const status = await client.maintenance.status();
      if (status.leader === status.header.member_id) return i;
    } finally {
      client.close();
    }
  }
  throw new Error('no leader found');
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
