import { describe, expect, it } from '@jest/globals';
import type { LockBackend } from '@lock/core';
import { EtcdBackend } from '@lock/etcd';
import { LocalBackend } from '@lock/local';
import { TracingBackend } from '../src/worker/tracing-backend.js';

/** The optional backend methods core's lock path consults: each one changes the path taken. */
const LOCK_PATH_HOOKS = ['extendMany', 'watch', 'acquireQueued', 'queuesAtOnce'] as const;

describe('the tracing backend', () => {
  it('has each optional lock-path method exactly when the backend it wraps has it', async () => {
    // Constructing an etcd backend dials nothing until the first call.
    const backends: LockBackend[] = [
      new LocalBackend(),
      new EtcdBackend({ hosts: 'http://127.0.0.1:1' }),
    ];
    for (const inner of backends) {
      const traced = new TracingBackend(inner, { onRenewSent() {}, onRenewSettled() {} });
      for (const hook of LOCK_PATH_HOOKS) {
        expect([inner.name, hook, typeof traced[hook]]).toEqual([
          inner.name,
          hook,
          typeof inner[hook],
        ]);
      }
      expect(traced.queuesAtOnce?.('k')).toBe(inner.queuesAtOnce?.('k'));
      await inner.close();
    }
  });
});
