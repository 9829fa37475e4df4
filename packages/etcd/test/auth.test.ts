import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, isLockError } from '@lock/core';
import { type RunningServer, randomKey, serverAvailable } from '@lock/testkit';
import { EtcdBackend, openBackend } from '../src/index.js';
import { ETCD, startEtcd } from './etcd-server.js';

const available = serverAvailable(ETCD);
const PASSWORD = 'correct-horse-7';

(available ? describe : describe.skip)('etcd with auth enabled', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startEtcd({ own: true });
    const etcdctl = (...args: string[]) =>
      execFileSync('etcdctl', ['--endpoints', server.url, ...args], { stdio: 'pipe' });
    etcdctl('user', 'add', `root:${PASSWORD}`, '--interactive=false');
    etcdctl('role', 'add', 'root');
    etcdctl('user', 'grant-role', 'root', 'root');
    etcdctl('auth', 'enable');
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('wrong credentials give a clear BackendError that keeps the cause and hides the password', async () => {
    const wrong = 'not-the-password';
    const locker = createLocker(
      new EtcdBackend({ hosts: server.url, auth: { username: 'root', password: wrong } }),
      { onError: () => {} },
    );
    try {
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/authentication failed/i);
      expect(message).not.toContain(wrong);
      expect((error as Error).cause).toBeDefined();
      const waitError = await locker.lock(randomKey(), { timeout: 5_000 }).catch((e: unknown) => e);
      expect(isLockError(waitError, 'BACKEND')).toBe(true);
    } finally {
      await locker.close();
    }
  });

  it('no credentials are refused too', async () => {
    const locker = createLocker(new EtcdBackend({ hosts: server.url }), { onError: () => {} });
    try {
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
    } finally {
      await locker.close();
    }
  });

  it('the right credentials work, from options or from the connection string', async () => {
    const port = new URL(server.url).port;
    const backends = [
      new EtcdBackend({ hosts: server.url, auth: { username: 'root', password: PASSWORD } }),
      await openBackend(`etcd://root:${PASSWORD}@127.0.0.1:${port}?dial-timeout=2s`),
      await openBackend(`etcd://127.0.0.1:${port}?username=root&password=${PASSWORD}`),
    ];
    for (const backend of backends) {
      const locker = createLocker(backend, { ttl: 5_000 });
      try {
        const key = randomKey();
        const lock = await locker.lock(key, { timeout: 5_000 });
        expect((await locker.inspect(key))?.fence).toBe(lock.fence);
        await lock.release();
      } finally {
        await locker.close();
      }
    }
  });
});
