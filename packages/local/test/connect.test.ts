import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { connect, isLockError, registerBackend } from '@lock/core';
import { openBackend } from '../src/index.js';

describe('connect("local:")', () => {
  it('resolves to @lock/local lazily, and lockers on the same named store contend', async () => {
    const a = await connect('local:shared-test', { identity: 'a' });
    const b = await connect('local://shared-test', { identity: 'b' });
    const c = await connect('local:other-store');
    try {
      expect(a.backend.name).toBe('local');
      const held = await a.tryLock('k');
      await expect(b.tryLock('k')).rejects.toMatchObject({ code: 'NOT_ACQUIRED', holder: 'a' });
      await expect(c.tryLock('k')).resolves.toMatchObject({ key: 'k' });
      await held.release();
      await expect(b.tryLock('k')).resolves.toMatchObject({ identity: 'b' });
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('rejects a malformed local URI and backend options it does not know', async () => {
    await expect(openBackend('local:has space')).rejects.toMatchObject({
      code: 'INVALID_CONNECTION_STRING',
    });
    await expect(connect('local:', { backend: { poolSize: 3 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('options.backend.poolSize'),
    });
    await expect(connect('local:', { backend: { poolSize: 3 } })).rejects.toMatchObject({
      message: expect.stringContaining('takes none'),
    });
  });

  it('checks every option, the locker’s too, before loading or opening anything', async () => {
    let loads = 0;
    registerBackend('countedlocal', async () => {
      loads += 1;
      return { openBackend: (uri) => openBackend(uri.replace(/^countedlocal:/, 'local:')) };
    });
    for (const options of [
      { ttl: 0 },
      { identity: 'a b' },
      { ttl: null },
      { timeout: -1 },
      { connectTimeout: 0 },
      { lazy: 'yes' },
      { backend: 'x' },
    ]) {
      const error = await connect('countedlocal:', options as never).catch((e: unknown) => e);
      expect([options, isLockError(error, 'INVALID_ARGUMENT')]).toEqual([options, true]);
    }
    expect(loads).toBe(0);
  });

  it('the whole of connect() is bounded by connectTimeout, a slow package load included', async () => {
    registerBackend('slowlocal', async () => {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      return { openBackend: (uri) => openBackend(uri.replace(/^slowlocal:/, 'local:')) };
    });
    const started = performance.now();
    const error = await connect('slowlocal://user:secret@x', { connectTimeout: 300 }).catch(
      (e: unknown) => e,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect((error as Error).message).toContain('300 ms');
    expect((error as Error).message).not.toContain('secret');
  });

  it('a session and a locker take a default timeout for lock(), which a call overrides', async () => {
    const locker = await connect('local:timeouts', { timeout: 150 });
    const session = locker.session({ timeout: 50 });
    try {
      await locker.tryLock('busy');
      for (const [who, expected] of [
        [locker, 150],
        [session, 50],
      ] as const) {
        const started = performance.now();
        const error = await who.lock('busy').catch((e: unknown) => e);
        expect(isLockError(error, 'TIMEOUT')).toBe(true);
        expect((error as { timeoutMs: number }).timeoutMs).toBe(expected);
        expect(performance.now() - started).toBeGreaterThanOrEqual(expected - 5);
      }
      const error = await session.lock('busy', { timeout: 0 }).catch((e: unknown) => e);
      expect((error as { timeoutMs: number }).timeoutMs).toBe(0);
    } finally {
      await locker.close();
    }
  });

  it('a script waiting in lock() on local: stays alive until it gets the lock; an idle one exits', () => {
    // Every timer of the library is unref'd and local: has no socket: only the pending call
    // itself can keep the process running until the holder's timer hands the lock over.
    const script = `
      const { connect } = require('@lock/core');
      (async () => {
        const locker = await connect('local:', { ttl: 5000 });
        const held = await locker.tryLock('k');
        setTimeout(() => held.release(), 300).unref();
        const lock = await locker.lock('k');
        console.log('got it', lock.fence > held.fence);
        await lock.release();
        await locker.tryLock('idle'); // held, never released: must not keep the process alive
      })();
    `;
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '-e', script],
      {
        cwd: __dirname,
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('got it true');
    expect(run.status).toBe(0);
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
