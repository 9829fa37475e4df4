import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  FaultProxy,
  randomKey,
  randomNamespace,
  serverAvailable,
  sleep,
  startChildScript,
} from '@lock/testkit';
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

/**
 * A process whose only client is a closed backend must exit by itself, whatever the network
 * did to that client's calls. Lost replies used to leave a gRPC stream open after close(): the
 * lease keepalive stream was only half-closed (etcd's end of it never came back) and the watch
 * stream waited for the answer to its cancel; grpc-js keeps a closed channel's calls running,
 * so the socket kept the process alive (the chaos suite saw workers stay up for 8 s and more).
 */
(available ? describe : describe.skip)('etcd backend close() after lost replies', () => {
  const etcd = etcdForTests();
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await FaultProxy.start(Number(new URL(etcd.server.url).port));
  });
  afterEach(async () => {
    await proxy.close();
  });

  it.each(['pass', 'drop-replies', 'blackhole'] as const)(
    'leaves nothing that keeps the process alive (%s, then healed)',
    async (fault) => {
      const child = startChildScript(join(__dirname, 'close-child.ts'), [
        `http://127.0.0.1:${proxy.port}`,
        `${randomNamespace()}/`,
      ]);
      try {
        await child.waitFor('ready');
        await proxy.set({ kind: fault });
        child.send('go');
        const outcome = fault === 'pass' ? 'fulfilled' : 'rejected'; // 'pass': the control
        expect(await child.waitFor('calls')).toBe(`calls ${outcome} ${outcome} ${outcome}`);
        await proxy.set({ kind: 'pass' });
        child.send('go');
        await child.waitFor('closed');
        const closedAt = performance.now();
        // Node exits as soon as nothing is left; 2 s is generous on a loaded machine.
        const exit = await Promise.race([child.exited, sleep(2_000).then(() => undefined)]);
        expect(exit?.code).toBe(0);
        expect((exit?.at ?? Number.POSITIVE_INFINITY) - closedAt).toBeLessThan(2_000);
      } finally {
        child.kill();
      }
    },
    20_000,
  );
});
