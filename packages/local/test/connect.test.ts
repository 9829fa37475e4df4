import { describe, expect, it } from '@jest/globals';
import { connect } from '@lock/core';
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
  });
});
