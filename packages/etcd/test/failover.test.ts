import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FaultProxy, randomKey, randomNamespace, serverAvailable, sleep } from '@lock/testkit';
import { GRPCDeadlineExceededError } from 'etcd3';
import { ConnectionPool } from 'etcd3/lib/connection-pool';
import { AttemptTracker } from '../src/attempts.js';
import { createClient } from '../src/client.js';
import { EtcdBackend } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

/**
 * A call that lands on one member, whose reply is lost when that member's connection drops, and
 * that the driver then retries on another member. Two fault proxies in front of one etcd stand
 * for two members; the driver tries its hosts in a fixed order (its own test switch), so the
 * first attempt always goes through `first` and the retry through `second`.
 */
(available ? describe : describe.skip)('etcd calls retried on another member', () => {
  const etcd = etcdForTests();
  let first: FaultProxy;
  let second: FaultProxy;
  let backend: EtcdBackend;
  let prefix: string;

  beforeAll(() => {
    ConnectionPool.deterministicOrder = true; // hosts are tried last to first
  });
  beforeEach(async () => {
    const port = Number(new URL(etcd.server.url).port);
    [first, second] = await Promise.all([FaultProxy.start(port), FaultProxy.start(port)]);
    prefix = `${randomNamespace()}/`;
    backend = new EtcdBackend({
      hosts: [`http://127.0.0.1:${second.port}`, `http://127.0.0.1:${first.port}`],
      prefix,
    });
  });
  afterEach(async () => {
    await Promise.all([first.set({ kind: 'pass' }), second.set({ kind: 'pass' })]);
    await backend.close();
    await Promise.all([first.close(), second.close()]);
  });
  afterAll(() => {
    ConnectionPool.deterministicOrder = false;
  });

  // 5.5 s asks for a 6 s lease: an acquire within 0.5 s of the lease's last renewal sends none.
  const ttlMs = 5_500;
  const entriesOf = (key: string) =>
    etcd.raw
      .getAll()
      .prefix(`${prefix}${encodeURIComponent(key)}/`)
      .count();

  /** Lets `call` land through `first`, loses its reply, and drops that connection. */
  async function landThenDrop<T>(call: () => Promise<T>): Promise<T> {
    await first.set({ kind: 'drop-replies' });
    const before = first.stats.bytesUp;
    const pending = call();
    while (first.stats.bytesUp === before) await sleep(1);
    await sleep(300); // committed by now; its reply is lost
    expect(second.stats.bytesUp).toBe(0); // nothing went the other way yet
    await first.set({ kind: 'reset' });
    return pending;
  }

  it('an acquire that committed before its retry is granted, not refused as held by itself', async () => {
    const key = randomKey();
    // Grants the lease just now, so the acquire below needs no renewal.
    await backend.acquire({ key: randomKey(), owner: 'one.warm', ttlMs });
    const result = await landThenDrop(() => backend.acquire({ key, owner: 'one.a', ttlMs }));
    expect(second.stats.bytesUp).toBeGreaterThan(0); // it was retried on the other member
    expect(result).toMatchObject({ acquired: true });
    expect(await entriesOf(key)).toBe(1);
    // It is a lock like any other: released by its owner, then free for anyone.
    await expect(backend.release({ key, owner: 'one.a' })).resolves.toBe('ok');
    expect(await entriesOf(key)).toBe(0);
  });

  it('a release that committed before its retry reports ok, not not-found', async () => {
    const key = randomKey();
    expect(await backend.acquire({ key, owner: 'one.b', ttlMs })).toMatchObject({
      acquired: true,
    });
    const result = await landThenDrop(() => backend.release({ key, owner: 'one.b' }));
    expect(second.stats.bytesUp).toBeGreaterThan(0);
    expect(result).toBe('ok');
    expect(await entriesOf(key)).toBe(0);
  });

  it('a semaphore acquire that committed before its retry is granted its own entry, once', async () => {
    const key = randomKey();
    const semaphoreEntries = () =>
      etcd.raw
        .getAll()
        .prefix(`${prefix}#sem/${encodeURIComponent(key)}/`)
        .count();
    const request = {
      key,
      owner: 'one.s',
      mode: 'permit',
      count: 2,
      permits: 3,
      ttlMs,
      wait: true,
    } as const;
    await backend.acquire({ key: randomKey(), owner: 'one.warm', ttlMs }); // grants the lease
    const result = await landThenDrop(() => backend.semaphoreAcquire(request));
    expect(second.stats.bytesUp).toBeGreaterThan(0); // it was retried on the other member
    expect(result).toMatchObject({ acquired: true });
    expect(await semaphoreEntries()).toBe(1);
    expect(await backend.semaphoreInspect(key)).toMatchObject({ inUse: 2, waiting: 0 });
    await expect(backend.semaphoreRelease({ key, owner: 'one.s' })).resolves.toBe('ok');
    expect(await semaphoreEntries()).toBe(0);
  });

  it('a semaphore release that committed before its retry reports ok, not not-found', async () => {
    const key = randomKey();
    const request = {
      key,
      owner: 'one.r',
      mode: 'read',
      count: 1,
      permits: 10_000,
      ttlMs,
      wait: false,
    } as const;
    expect(await backend.semaphoreAcquire(request)).toMatchObject({ acquired: true });
    const released = await landThenDrop(() => backend.semaphoreRelease({ key, owner: 'one.r' }));
    expect(second.stats.bytesUp).toBeGreaterThan(0);
    expect(released).toBe('ok');
    expect(await backend.semaphoreInspect(key)).toBeUndefined();
  });

  it('a write the backend gave up on is not sent again to another member', async () => {
    const impatient = new EtcdBackend({
      hosts: [`http://127.0.0.1:${second.port}`, `http://127.0.0.1:${first.port}`],
      prefix,
      requestTimeoutMs: 300,
    });
    try {
      await impatient.acquire({ key: randomKey(), owner: 'two.warm', ttlMs });
      await first.set({ kind: 'blackhole' });
      const sentBefore = second.stats.bytesUp;
      const error = await impatient
        .acquire({ key: randomKey(), owner: 'two.a', ttlMs })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'BACKEND' });
      await sleep(1_000); // the driver's own deadline has passed too
      expect(second.stats.bytesUp).toBe(sentBefore);
    } finally {
      await first.set({ kind: 'pass' });
      await impatient.close();
    }
  });

  it('a call that ran out its gRPC deadline is not sent again to another member', async () => {
    // The driver's client alone (no backend deadline on top): only the retry policy decides.
    const options = resolveOptions({
      hosts: [`http://127.0.0.1:${second.port}`, `http://127.0.0.1:${first.port}`],
      requestTimeoutMs: 300,
    });
    const client = createClient(options, new AttemptTracker());
    try {
      await client.kv.range({ key: Buffer.from('warm') }); // connected through `first`
      await first.set({ kind: 'blackhole' });
      const sentBefore = second.stats.bytesUp;
      const error = await client.kv.range({ key: Buffer.from('k') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GRPCDeadlineExceededError);
      await sleep(300);
      expect(second.stats.bytesUp).toBe(sentBefore);
    } finally {
      client.close();
    }
  });
});
