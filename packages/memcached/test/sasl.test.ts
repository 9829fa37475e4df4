import { createLocker, isLockError } from '@lock/core';
import { hasCommand, type RunningServer, randomKey } from '@lock/testkit';
import { MemcachedBackend } from '../src/index.js';
import {
  describeMemcached,
  SASL_PASSWORD,
  SASL_USER,
  startSaslMemcached,
} from './memcached-server.js';

const describeSasl = hasCommand('saslpasswd2') ? describeMemcached : describe.skip;
if (!hasCommand('saslpasswd2')) {
  console.warn(
    '\n*** SKIPPING MEMCACHED SASL TESTS: saslpasswd2 is missing (apt-get install sasl2-bin) ***\n',
  );
}

describeSasl('memcached with SASL', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startSaslMemcached();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('works with the right credentials, from options and from a URI', async () => {
    const fromOptions = new MemcachedBackend({
      servers: [server.url],
      username: SASL_USER,
      password: SASL_PASSWORD,
    });
    const fromUri = new MemcachedBackend({
      uri: `memcached://${SASL_USER}:${encodeURIComponent(SASL_PASSWORD)}@${server.url}`,
    });
    try {
      const key = randomKey();
      const taken = await fromOptions.acquire({ key, owner: 'a.1', ttlMs: 5_000 });
      expect(taken.acquired).toBe(true);
      expect(await fromUri.acquire({ key, owner: 'b.1', ttlMs: 5_000 })).toMatchObject({
        acquired: false,
        holder: 'a.1',
      });
      await expect(fromUri.release({ key, owner: 'a.1' })).resolves.toBe('ok');
    } finally {
      await Promise.all([fromOptions.close(), fromUri.close()]);
    }
  });

  it('a wrong password gives a clear BackendError that never shows the password', async () => {
    const locker = createLocker(
      new MemcachedBackend({ servers: [server.url], username: SASL_USER, password: 'wrong-pw-42' }),
      { onError: () => {} },
    );
    try {
      const started = performance.now();
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(isLockError(error, 'BACKEND')).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/authentication/i);
      expect(message).not.toContain('wrong-pw-42');
      expect((error as Error).cause).toBeDefined();
    } finally {
      await locker.close();
    }
  });

  it('no credentials against a SASL server fail with a BackendError, not a hang', async () => {
    const backend = new MemcachedBackend({ servers: [server.url], operationTimeout: 3_000 });
    try {
      const error = await backend
        .acquire({ key: randomKey(), owner: 'a.1', ttlMs: 1_000 })
        .catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
    } finally {
      await backend.close();
    }
  });
});
