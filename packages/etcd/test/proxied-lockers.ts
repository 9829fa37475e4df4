import { afterEach, beforeEach } from '@jest/globals';
import { createLocker, type Locker } from '@lock/core';
import { FaultProxy, randomNamespace } from '@lock/testkit';
import { EtcdBackend } from '../src/index.js';
import type { EtcdForTests } from './etcd-server.js';

/** What {@link proxiedLockers} gives a test: lockers through a fault proxy or straight to etcd. */
export interface ProxiedLockers {
  /** The fault proxy of the current test (new for each test). */
  readonly proxy: FaultProxy;
  /** The key prefix of the current test (new for each test). */
  readonly prefix: string;
  /** A locker reaching etcd `through` the proxy or directly; closed after the test. */
  open(
    identity: string,
    options: { through: 'proxy' | 'direct'; ttl: number; requestTimeoutMs: number },
  ): Locker;
}

/**
 * Registers, in the calling `describe`, a fault proxy in front of `etcd` and a fresh key prefix
 * for each test, and closes the test's lockers and proxy after it (letting traffic pass first,
 * so that their clean-up reaches etcd).
 */
export function proxiedLockers(etcd: EtcdForTests): ProxiedLockers {
  let proxy: FaultProxy | undefined;
  let prefix = '';
  const lockers: Locker[] = [];
  beforeEach(async () => {
    proxy = await FaultProxy.start(Number(new URL(etcd.server.url).port));
    prefix = `${randomNamespace()}/`;
  });
  afterEach(async () => {
    await proxy?.set({ kind: 'pass' });
    await Promise.all(lockers.splice(0).map((l) => l.close()));
    await proxy?.close();
  });
  return {
    get proxy() {
      if (proxy === undefined) throw new Error('proxiedLockers: used outside a test');
      return proxy;
    },
    get prefix() {
      return prefix;
    },
    open(identity, { through, ttl, requestTimeoutMs }) {
      const port = through === 'proxy' ? this.proxy.port : Number(new URL(etcd.server.url).port);
      const locker = createLocker(
        new EtcdBackend({ hosts: `http://127.0.0.1:${port}`, prefix, requestTimeoutMs }),
        { ttl, identity, onError: () => {} },
      );
      lockers.push(locker);
      return locker;
    },
  };
}
