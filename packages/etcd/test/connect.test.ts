// connect(uri) on etcd (issue #10): it used to succeed at once against a member that was down
// or frozen. Now it makes one round trip within the connect timeout, names the members when it
// cannot, does nothing when asked to be lazy, and checks every option before any I/O.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { connect, isLockError, registerBackend } from '@lock/core';
import { freePort, randomKey, serverAvailable } from '@lock/testkit';
import { openBackend } from '../src/index.js';
import { ETCD, etcdForTests } from './etcd-server.js';

(serverAvailable(ETCD) ? describe : describe.skip)('connect("etcd://…")', () => {
  const etcd = etcdForTests({ own: true });
  const uri = () => etcd.server.url.replace(/^http:/, 'etcd:');

  beforeAll(() => {
    registerBackend('etcd', async () => ({ openBackend }));
  });

  it('reaches a live member and locks, also in the etcd:host:port form', async () => {
    for (const form of [uri(), uri().replace('etcd://', 'etcd:')]) {
      const locker = await connect(form);
      try {
        await (await locker.tryLock(randomKey())).release();
      } finally {
        await locker.close();
      }
    }
  });

  it('a member that is down: a BackendError naming it, fast', async () => {
    const port = await freePort();
    const started = performance.now();
    const error = await connect(`etcd://user:secret@127.0.0.1:${port}`, {
      connectTimeout: 2_000,
    }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).cause).toBeDefined();
  });

  it('a frozen member: rejects within the connect timeout, naming it', async () => {
    await etcd.server.pause();
    try {
      const started = performance.now();
      const error = await connect(uri(), { connectTimeout: 800 }).catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain(`127.0.0.1:${etcd.server.ports[0]}`);
      expect(elapsed).toBeLessThan(800 + 500);
    } finally {
      await etcd.server.resume();
    }
  });

  it('lazy: connect() does not reach the member; the first call does', async () => {
    const port = await freePort();
    const locker = await connect(`etcd://127.0.0.1:${port}`, { lazy: true, connectTimeout: 500 });
    try {
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
    } finally {
      await locker.close();
    }
  });

  it('bad options and URIs are rejected before any I/O, saying what is wrong', async () => {
    const port = await freePort();
    for (const [given, options, code, text] of [
      [`etcd://127.0.0.1:${port}`, { ttl: 0 }, 'INVALID_ARGUMENT', 'options.ttl'],
      [`etcd://127.0.0.1:99999`, {}, 'INVALID_CONNECTION_STRING', 'port 99999 is out of range'],
      [
        `etcd://127.0.0.1:${port}?colour=blue`,
        {},
        'INVALID_CONNECTION_STRING',
        'unknown query parameter "colour"',
      ],
    ] as const) {
      const error = await connect(given, options).catch((e: unknown) => e);
      expect([given, isLockError(error, code)]).toEqual([given, true]);
      expect((error as Error).message).toContain(text);
    }
  });
});
