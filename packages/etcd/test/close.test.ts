import { describe, expect, it } from '@jest/globals';
import { randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { EtcdBackend } from '../src/index.js';
import { delayNextTxn } from './driver-delays.js';
import { ETCD, etcdForTests } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)('etcd backend close()', () => {
  const etcd = etcdForTests();

  it('lets a release under way finish: it answers ok, not CLOSED, FORBIDDEN or NOT_FOUND', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = new EtcdBackend({ hosts: etcd.server.url, prefix });
    const key = randomKey();
    await backend.acquire({ key, owner: 'c.1', ttlMs: 5_000 });
    // The release's transaction leaves 200 ms late (a slow network): close() starts meanwhile.
    void delayNextTxn(backend.client, { sendAfterMs: 200 });
    const releasing = backend.release({ key, owner: 'c.1' });
    const closing = backend.close();
    await expect(releasing).resolves.toBe('ok');
    await closing;
    expect(await etcd.raw.getAll().prefix(prefix).count()).toBe(0);
    // Calls made after close() started are refused as such.
    await expect(backend.acquire({ key, owner: 'c.2', ttlMs: 5_000 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});
