import { afterEach, describe, expect, it } from '@jest/globals';
import { randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { EtcdBackend } from '../src/index.js';
import { delayNextTxn } from './driver-delays.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)('etcd lease pool against a real etcd', () => {
  const etcd = etcdForTests();
  const backends: EtcdBackend[] = [];
  const open = (prefix: string) => {
    const backend = new EtcdBackend({ hosts: etcd.server.url, prefix });
    backends.push(backend);
    return backend;
  };

  afterEach(async () => {
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  it('a lease with an acquire pending on it is not revoked when another call finds it stale', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = open(prefix);
    // 4.1 s asks for a 5 s lease: an acquire within 0.9 s of its last renewal sends none, and
    // the pool stops handing it out after 2.5 s unrenewed.
    const ttlMs = 4_100;
    const granted = performance.now();
    const warm = randomKey();
    // Grants the lease (counted from now) and leaves it current but unused.
    await backend.acquire({ key: warm, owner: 'x.warm', ttlMs });
    await backend.release({ key: warm, owner: 'x.warm' });

    // A: written on that lease while it is fresh; its reply is held back past the half-TTL mark.
    await sleepUntil(granted + 300);
    const key = randomKey();
    const slowReply = delayNextTxn(backend.client, { replyAfterMs: 2_600 });
    const a = backend.acquire({ key, owner: 'x.a', ttlMs });
    await slowReply;

    // B: past the half-TTL mark, the pool replaces the lease and lets the old one go.
    await sleepUntil(granted + 2_650);
    const other = randomKey();
    const b = await backend.acquire({ key: other, owner: 'x.b', ttlMs });
    expect(b.acquired).toBe(true);

    expect(await a).toMatchObject({ acquired: true });
    // The interleaving happened: B is on a new lease, A on the one it was handed.
    const leaseOf = async (k: string) =>
      (
        await etcd.raw
          .getAll()
          .prefix(`${prefix}${encodeURIComponent(k)}/`)
          .exec()
      ).kvs[0]?.lease;
    const [leaseA, leaseB] = [await leaseOf(key), await leaseOf(other)];
    expect(leaseB).toBeDefined();
    // A's entry must still exist, so nobody else can take the lock while A believes it holds it.
    expect(leaseA).toBeDefined();
    expect(leaseA).not.toBe(leaseB);
    const rival = open(prefix);
    expect(await rival.acquire({ key, owner: 'y.1', ttlMs })).toMatchObject({ acquired: false });
    await expect(backend.release({ key, owner: 'x.a' })).resolves.toBe('ok');
  }, 15_000);
});

async function sleepUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
