// rediss:// against a real redis-server with TLS on, its certificate signed by a CA made here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocker, isLockError } from '@lock/core';
import {
  canConnect,
  hasCommand,
  makeTestCertificates,
  type RunningServer,
  randomKey,
  startServer,
} from '@lock/testkit';
import { openBackend } from '../src/index.js';
import { openAndConnect, redisBinaryAvailable } from './redis-server.js';

const available = redisBinaryAvailable() && hasCommand('openssl');

(available ? describe : describe.skip)('TLS (rediss://)', () => {
  let certs: string;
  let server: RunningServer;
  const url = () => `rediss://alice:alice-secret@127.0.0.1:${server.ports[0]}`;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'lock-redis-tls-'));
    makeTestCertificates(certs);
    server = await startServer({
      name: 'REDIS_TLS',
      command: 'redis-server',
      args: ([port], dir) => [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        join(certs, 'server.crt'),
        '--tls-key-file',
        join(certs, 'server.key'),
        '--tls-ca-cert-file',
        join(certs, 'ca.crt'),
        '--tls-auth-clients',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--user',
        'alice',
        'on',
        '>alice-secret',
        '~*',
        '&*',
        '+@all',
      ],
      url: ([port]) => `rediss://127.0.0.1:${port}`,
      ready: ([port]) => canConnect(port as number),
      installHint: 'apt-get install redis-server openssl',
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  it('locks over TLS with the server CA and ACL credentials', async () => {
    const backend = await openBackend(url(), { tls: { ca: readFileSync(join(certs, 'ca.crt')) } });
    const locker = createLocker(backend);
    try {
      const lock = await locker.lock(randomKey(), { timeout: 2_000 });
      expect(lock.fence).toBeGreaterThan(0);
      await lock.release();
    } finally {
      await locker.close();
    }
  });

  it('an untrusted server certificate fails fast with a BackendError, not a hang', async () => {
    const started = performance.now();
    const error = await openAndConnect(url(), { connectTimeout: 2_000 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).message).not.toContain('alice-secret');
  });

  it('wrong credentials over TLS give a clear BackendError', async () => {
    const wrong = url().replace('alice-secret', 'wrong-secret');
    const error = await openAndConnect(wrong, {
      tls: { ca: readFileSync(join(certs, 'ca.crt')) },
      connectTimeout: 2_000,
    }).catch((e: unknown) => e);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).message).not.toContain('wrong-secret');
  });
});
