import { afterEach, describe, expect, it } from '@jest/globals';
import { randomKey, randomNamespace, serverAvailable, sleep } from '@lock/testkit';
import { EtcdBackend } from '../src/index.js';
import { delayNextLeaseTimeToLive } from './driver-delays.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)('etcd extend racing a keepalive tick', () => {
  const etcd = etcdForTests();
  const backends: EtcdBackend[] = [];

  afterEach(async () => {
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  it('a tick that grouped the lock under its old lease while an extend moved it to a longer one keeps it', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = new EtcdBackend({ hosts: etcd.server.url, prefix });
    backends.push(backend);
    const key = randomKey();
    const owner = 'x.1';
    expect(await backend.acquire({ key, owner, ttlMs: 1_000 })).toMatchObject({ acquired: true });
    // What core sends: a keepalive tick for the lock's 1 s TTL, whose listing of the old lease's
    // keys leaves late, and meanwhile the user's extend(5000), which moves the entry to a 5 s lease.
    delayNextLeaseTimeToLive(backend.client, 300);
    const tick = backend.extendMany([{ key, owner, ttlMs: 1_000 }]);
    const extend = backend.extend({ key, owner, ttlMs: 5_000 });
    expect(await extend).toBe('ok');
    expect(await tick).toEqual(['ok']);
    // Still ours, on the 5 s lease, well past the old 1 s one.
    await sleep(2_000);
    expect(await backend.extend({ key, owner, ttlMs: 5_000 })).toBe('ok');
    const rival = new EtcdBackend({ hosts: etcd.server.url, prefix });
    backends.push(rival);
    expect(await rival.acquire({ key, owner: 'y.1', ttlMs: 1_000 })).toMatchObject({
      acquired: false,
      holder: owner,
    });
    await expect(backend.release({ key, owner })).resolves.toBe('ok');
  }, 15_000);
});
