import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningServer, randomKey, randomNamespace, serverAvailable } from '@lock/testkit';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../src/index.js';
import { delayNextTxn } from './driver-delays.js';
import { ETCD, startEtcd } from './etcd-server.js';

const available = serverAvailable(ETCD);

(available ? describe : describe.skip)('etcd backend close()', () => {
  let server: RunningServer;
  let raw: Etcd3;

  beforeAll(async () => {
    server = await startEtcd();
    raw = new Etcd3({ hosts: server.url });
  }, 30_000);
  afterAll(async () => {
    raw?.close();
    await server?.stop();
  });

  it('lets a release under way finish: it answers ok, not CLOSED, FORBIDDEN or NOT_FOUND', async () => {
    const prefix = `${randomNamespace()}/`;
    const backend = new EtcdBackend({ hosts: server.url, prefix });
    const key = randomKey();
    await backend.acquire({ key, owner: 'c.1', ttlMs: 5_000 });
    // The release's transaction leaves 200 ms late (a slow network): close() starts meanwhile.
    void delayNextTxn(backend.client, { sendAfterMs: 200 });
    const releasing = backend.release({ key, owner: 'c.1' });
    const closing = backend.close();
    await expect(releasing).resolves.toBe('ok');
    await closing;
    expect(await raw.getAll().prefix(prefix).count()).toBe(0);
    // Calls made after close() started are refused as such.
    await expect(backend.acquire({ key, owner: 'c.2', ttlMs: 5_000 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});
