import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, createLocker, isLockError, registerBackend } from '@lock/core';
import {
  type RunningServer,
  randomKey,
  randomNamespace,
  runConformanceSuite,
  startServer,
} from '@lock/testkit';
import { createCluster } from 'redis';
import { lockKeys, openBackend, RedisBackend, type RedisClusterLike } from '../src/index.js';
import { openAndConnect, redisBinaryAvailable } from './redis-server.js';

const available = redisBinaryAvailable();

/** One cluster-enabled redis-server (always a local process: a cluster needs its own). */
function startClusterNode(): Promise<RunningServer> {
  return startServer({
    name: 'REDIS_CLUSTER_NODE',
    command: 'redis-server',
    args: (ports, dir) => [
      '--port',
      String(ports[0]),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `${dir}/nodes.conf`,
    ],
    url: (ports) => `redis://127.0.0.1:${ports[0]}`,
    ready: async (ports) =>
      spawnSync('redis-cli', ['-p', String(ports[0]), 'ping'], {
        encoding: 'utf8',
      }).stdout.trim() === 'PONG',
    installHint: 'apt-get install redis-server',
  });
}

function clusterState(port: number): string {
  return spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' })
    .stdout;
}

(available ? describe : describe.skip)('redis cluster (3 masters)', () => {
  let nodes: RunningServer[] = [];
  let cluster: ReturnType<typeof createCluster>;

  beforeAll(async () => {
    nodes = await Promise.all([1, 2, 3].map(() => startClusterNode()));
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.ports[0]}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout}`);
    const deadline = Date.now() + 20_000;
    while (!nodes.every((n) => clusterState(n.ports[0] as number).includes('cluster_state:ok'))) {
      if (Date.now() > deadline) throw new Error('cluster did not become ok');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    cluster = createCluster({ rootNodes: nodes.map((n) => ({ url: n.url })) });
    cluster.on('error', () => {});
    await cluster.connect();
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  const asLike = (): RedisClusterLike => cluster;

  it('locks and fences work on keys in different slots', async () => {
    const prefix = `${randomNamespace()}:`;
    const locker = createLocker(new RedisBackend({ cluster: asLike(), prefix }));
    try {
      const keys = Array.from({ length: 30 }, () => randomKey());
      const slots = new Set(
        keys.map(
          (key) =>
            spawnSync(
              'redis-cli',
              ['-p', String(nodes[0]?.ports[0]), 'cluster', 'keyslot', lockKeys(prefix, key).lock],
              { encoding: 'utf8' },
            ).stdout,
        ),
      );
      expect(slots.size).toBeGreaterThan(10);
      const held = await Promise.all(keys.map((key) => locker.tryLock(key)));
      for (const lock of held) expect(lock.fence).toBe(2); // fences count in steps of 2 (see ACQUIRE_FAIR)
      await expect(locker.tryLock(keys[0] as string)).rejects.toMatchObject({
        code: 'NOT_ACQUIRED',
      });
      await Promise.all(held.map((lock) => lock.extend()));
      await Promise.all(held.map((lock) => lock.release()));
      const again = await Promise.all(keys.map((key) => locker.tryLock(key)));
      for (const lock of again) expect(lock.fence).toBe(4);
      await Promise.all(again.map((lock) => lock.release()));
    } finally {
      await locker.close();
    }
    expect(cluster.isOpen).toBe(true); // the backend never closes a cluster you passed in
  });

  it('opens from a redis-cluster:// URI (a cluster client it owns), through connect() too', async () => {
    registerBackend('redis-cluster', async () => ({ openBackend }));
    const prefix = `${randomNamespace()}:`;
    const hosts = nodes
      .slice(0, 2)
      .map((n) => `127.0.0.1:${n.ports[0]}`)
      .join(',');
    const locker = await connect(`redis-cluster://${hosts}?prefix=${prefix}&fair=false`);
    try {
      const keys = Array.from({ length: 20 }, () => randomKey());
      const held = await Promise.all(keys.map((key) => locker.tryLock(key)));
      for (const lock of held) expect(lock.fence).toBe(2); // fences count in steps of 2 (see ACQUIRE_FAIR)
      // Every key is there, whichever master its slot lives on.
      for (const key of keys) expect(await cluster.get(lockKeys(prefix, key).lock)).not.toBeNull();
      await Promise.all(held.map((lock) => lock.release()));
    } finally {
      await locker.close();
    }
  });

  it('a redis-cluster:// URI that cannot be reached fails fast, without showing the password', async () => {
    const { freePort } = await import('@lock/testkit');
    const uri = `redis-cluster://:hunter2@127.0.0.1:${await freePort()}?connect-timeout=500ms`;
    const started = performance.now();
    const error = await openAndConnect(uri).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(isLockError(error, 'BACKEND')).toBe(true);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('hunter2');
  });

  describe('conformance on the cluster', () => {
    runConformanceSuite({
      name: 'redis cluster',
      capabilities: { semaphores: true },
      createBackend: async (namespace) =>
        new RedisBackend({ cluster: asLike(), prefix: `${namespace}:` }),
      forceDelete: async (namespace, key) => {
        await cluster.del(lockKeys(`${namespace}:`, key).lock);
      },
      createUnreachableBackend: async () => {
        const { freePort } = await import('@lock/testkit');
        const unreachable = createCluster({
          rootNodes: [{ url: `redis://127.0.0.1:${await freePort()}` }],
          defaults: { socket: { reconnectStrategy: false, connectTimeout: 500 } },
        });
        unreachable.on('error', () => {});
        return new RedisBackend({
          cluster: unreachable as unknown as RedisClusterLike,
          connectTimeout: 1_000,
        });
      },
    });
  });
});
