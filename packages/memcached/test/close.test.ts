import { isLockError } from '@lock/core';
import { FaultProxy, type RunningServer, randomKey } from '@lock/testkit';
import { Client } from 'memjs';
import { itemKeys, MemcachedBackend } from '../src/index.js';
import { describeMemcached, startMemcached } from './memcached-server.js';

describeMemcached('memcached: close() and the calls under way', () => {
  let server: RunningServer;
  let proxy: FaultProxy;
  let raw: Client;
  beforeAll(async () => {
    server = await startMemcached();
    raw = Client.create(server.url, { logger: { log() {} } });
    proxy = await FaultProxy.start(server.ports[0] as number);
  });
  afterAll(async () => {
    await proxy?.close();
    raw?.close();
    await server?.stop();
  });
  afterEach(async () => {
    await proxy.set({ kind: 'pass' });
  });

  const lockItem = (key: string) => itemKeys('close:', key).lock;
  const open = () =>
    new MemcachedBackend({ servers: [`127.0.0.1:${proxy.port}`], keyPrefix: 'close:' });

  it('a release sent before close() reports its own result, not CLOSED', async () => {
    const backend = open();
    const key = randomKey();
    await backend.acquire({ key, owner: 'a.1', ttlMs: 30_000 });
    await proxy.set({ kind: 'delay', downMs: 300 });
    const released = backend.release({ key, owner: 'a.1' }).catch((e: unknown) => e);
    const started = performance.now();
    await backend.close();
    // Before the fix close() failed the release with CLOSED while it went on to land.
    expect(await released).toBe('ok');
    expect(performance.now() - started).toBeLessThan(3_000);
    expect((await raw.get(lockItem(key))).value).toBeNull();
  });

  it('a release that needs a read first finishes both steps across close()', async () => {
    const holder = open();
    const other = open(); // remembers no CAS: it reads the item, then deletes it
    const key = randomKey();
    try {
      await holder.acquire({ key, owner: 'a.1', ttlMs: 30_000 });
      await proxy.set({ kind: 'delay', downMs: 300 });
      const released = other.release({ key, owner: 'a.1' }).catch((e: unknown) => e);
      await other.close();
      expect(await released).toBe('ok');
      expect((await raw.get(lockItem(key))).value).toBeNull();
    } finally {
      await holder.close();
    }
  });

  it('calls made after close() are refused with CLOSED and send nothing', async () => {
    const backend = open();
    await backend.close();
    const key = randomKey();
    const error = await backend
      .acquire({ key, owner: 'a.1', ttlMs: 5_000 })
      .catch((e: unknown) => e);
    expect(isLockError(error, 'CLOSED')).toBe(true);
    expect((await raw.get(lockItem(key))).value).toBeNull();
  });
});
