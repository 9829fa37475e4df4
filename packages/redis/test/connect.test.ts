// connect(uri) on Redis (issue #10): one round trip within the connect timeout, a typed error
// naming the address when the server is down or frozen, nothing at all when asked to be lazy,
// and every option checked before any I/O.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, isLockError, registerBackend } from '@lock/core';
import { freePort, type RunningServer, randomKey } from '@lock/testkit';
import { openBackend } from '../src/index.js';
import { redisAvailable, startOwnRedis } from './redis-server.js';

const available = redisAvailable();

(available ? describe : describe.skip)('connect("redis://…")', () => {
  let server: RunningServer;

  beforeAll(async () => {
    registerBackend('redis', async () => ({ openBackend }));
    server = await startOwnRedis();
  });
  afterAll(async () => {
    await server?.resume();
    await server?.stop();
  });

  it('reaches a live server and locks', async () => {
    const locker = await connect(server.url);
    try {
      await (await locker.tryLock(randomKey())).release();
    } finally {
      await locker.close();
    }
  });

  it('a server that is down: a BackendError naming the address, at once', async () => {
    const port = await freePort();
    const started = performance.now();
    const error = await connect(`redis://user:secret@127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).cause).toBeDefined();
  });

  it('a frozen server: rejects within the connect timeout, naming the address', async () => {
    await server.pause();
    try {
      const started = performance.now();
      const error = await connect(server.url, { connectTimeout: 800 }).catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(isLockError(error, 'BACKEND')).toBe(true);
      expect((error as Error).message).toContain(`127.0.0.1:${server.ports[0]}`);
      expect(elapsed).toBeLessThan(800 + 500);
    } finally {
      await server.resume();
    }
  });

  it('lazy: connect() does not reach the server; the first call does', async () => {
    const port = await freePort();
    const locker = await connect(`redis://127.0.0.1:${port}`, { lazy: true });
    try {
      const error = await locker.tryLock(randomKey()).catch((e: unknown) => e);
      expect(isLockError(error, 'BACKEND')).toBe(true);
    } finally {
      await locker.close();
    }
  });

  it('bad options and URIs are rejected before any I/O, saying what is wrong', async () => {
    const port = await freePort(); // nothing listens: any I/O would be a BackendError
    for (const [uri, options, code, text] of [
      [`redis://127.0.0.1:${port}`, { ttl: 0 }, 'INVALID_ARGUMENT', 'options.ttl'],
      [`redis://127.0.0.1:${port}`, { identity: 'a b' }, 'INVALID_ARGUMENT', 'whitespace'],
      [
        `redis://alice:secret@127.0.0.1:99999`,
        {},
        'INVALID_CONNECTION_STRING',
        'port 99999 is out of range',
      ],
      [
        `redis://127.0.0.1:${port}?colour=blue`,
        {},
        'INVALID_CONNECTION_STRING',
        'unknown query parameter "colour"',
      ],
    ] as const) {
      const error = await connect(uri, options).catch((e: unknown) => e);
      expect([uri, isLockError(error, code)]).toEqual([uri, true]);
      expect((error as Error).message).toContain(text);
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
