// Every fault the suites inject, on a real Redis, etcd and memcached started by whichever
// provider this run chose (LOCK_TEST_SERVERS): pause and resume, kill, kill while paused,
// restart on the same port, a fault proxy in front. CI runs this file with local processes and
// again with containers.
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FaultProxy } from '../src/fault-proxy.js';
import { canConnect, type RunningServer, serverAvailable, startServer } from '../src/harness.js';
import { chooseProvider } from '../src/provider-choice.js';
import { memcachedAnswers } from '../src/server-checks.js';
import { etcdServerSpec, memcachedServerSpec, redisServerSpec } from '../src/server-specs.js';
import { redis } from './resp.js';

const provider = chooseProvider().provider === 'containers' ? 'container' : 'process';
const startTimeout = 120_000; // an image pull, where a registry is reachable

(serverAvailable(redisServerSpec()) ? describe : describe.skip)(`Redis as a ${provider}`, () => {
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    server = await startServer(redisServerSpec());
    port = server.ports[0] as number;
  }, startTimeout);
  afterAll(async () => {
    await server?.stop();
  });

  it('runs as this run chose and answers on its loopback port', async () => {
    expect(server.provider).toBe(provider);
    expect(server.url).toBe(`redis://127.0.0.1:${port}`);
    expect(await redis(port, 'PING')).toBe('+PONG');
  });

  it('pause() freezes it: a request lands but gets no reply until resume()', async () => {
    await server.pause();
    const socket = new Socket();
    const replies: string[] = [];
    socket.on('data', (chunk: Buffer) => replies.push(chunk.toString()));
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    socket.write('INCR paused-counter\r\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(replies).toEqual([]);
    await server.resume();
    for (let i = 0; i < 100 && replies.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    socket.destroy();
    expect(replies.join('')).toBe(':1\r\n');
  });

  it('kill() is a crash: nothing answers; restart() brings it back on the same port, empty', async () => {
    expect(await redis(port, 'SET survivor 1')).toBe('+OK');
    await server.kill();
    expect(await canConnect(port)).toBe(false);
    await server.restart();
    expect(await redis(port, 'PING')).toBe('+PONG');
    expect(await redis(port, 'GET survivor')).toBe('$-1');
  }, 60_000);

  it('kill() of a paused server: it dies without answering the request it had not read', async () => {
    await server.pause();
    const socket = new Socket();
    const replies: string[] = [];
    socket.on('data', (chunk: Buffer) => replies.push(chunk.toString()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    socket.write('SET written-while-frozen 1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.kill();
    await server.restart();
    socket.destroy();
    expect(replies).toEqual([]);
    expect(await redis(port, 'GET written-while-frozen')).toBe('$-1');
  }, 60_000);

  it('a FaultProxy in front of its port injects a silent partition, then lets traffic through', async () => {
    const proxy = await FaultProxy.start(port);
    try {
      expect(await redis(proxy.port, 'PING')).toBe('+PONG');
      await proxy.set({ kind: 'blackhole' });
      expect(await redis(proxy.port, 'PING', 500)).toBe('no reply');
      await proxy.set({ kind: 'pass' });
      expect(await redis(proxy.port, 'PING')).toBe('+PONG');
    } finally {
      await proxy.close();
    }
  });
});

(serverAvailable(etcdServerSpec()) ? describe : describe.skip)(`etcd as a ${provider}`, () => {
  let server: RunningServer;
  const health = async (ms = 1_000) => {
    const reply = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(ms) }).catch(
      () => undefined,
    );
    return reply?.ok === true && (await reply.text()).includes('"health":"true"');
  };

  beforeAll(async () => {
    server = await startServer(etcdServerSpec());
  }, startTimeout);
  afterAll(async () => {
    await server?.stop();
  });

  it('answers /health; a paused etcd does not; resumed, it does again', async () => {
    expect(server.provider).toBe(provider);
    expect(await health()).toBe(true);
    await server.pause();
    expect(await health(500)).toBe(false);
    await server.resume();
    expect(await health(5_000)).toBe(true);
  });

  it('restart() brings back a fresh member on the same ports', async () => {
    const put = await fetch(`${server.url}/v3/kv/put`, {
      method: 'POST',
      body: JSON.stringify({ key: btoa('k'), value: btoa('v') }),
    });
    expect(put.ok).toBe(true);
    await server.restart();
    const range = await fetch(`${server.url}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: btoa('k') }),
    });
    expect((await range.json()) as object).not.toHaveProperty('kvs');
  }, 60_000);
});

(serverAvailable(memcachedServerSpec()) ? describe : describe.skip)(
  `memcached as a ${provider}`,
  () => {
    it('answers VERSION, and not while paused', async () => {
      const server = await startServer(memcachedServerSpec());
      try {
        const port = server.ports[0] as number;
        expect(server.provider).toBe(provider);
        expect(await memcachedAnswers(port)).toBe(true);
        await server.pause();
        expect(await memcachedAnswers(port)).toBe(false);
        await server.resume();
        expect(await memcachedAnswers(port)).toBe(true);
      } finally {
        await server.stop();
      }
    }, 60_000);
  },
);

describe('a server given by LOCK_TEST_<NAME>_URL', () => {
  it('is used as given, and refuses to be frozen, killed or restarted: it is not ours', async () => {
    const saved = process.env['LOCK_TEST_REDIS_URL'];
    process.env['LOCK_TEST_REDIS_URL'] = 'redis://127.0.0.1:6390';
    try {
      const server = await startServer(redisServerSpec());
      expect(server).toMatchObject({ provider: 'url', url: 'redis://127.0.0.1:6390', ports: [] });
      await expect(server.pause()).rejects.toThrow(
        'cannot pause REDIS: it is given by LOCK_TEST_REDIS_URL, not started here',
      );
      await expect(server.kill()).rejects.toThrow('cannot kill REDIS');
      await expect(server.restart()).rejects.toThrow('cannot restart REDIS');
      await server.resume(); // nothing was paused: nothing to do
      await server.stop();
    } finally {
      if (saved === undefined) delete process.env['LOCK_TEST_REDIS_URL'];
      else process.env['LOCK_TEST_REDIS_URL'] = saved;
    }
  });
});

describe('a server that cannot start', () => {
  it('a missing binary: startServer rejects at once, naming it (no container: always a process)', async () => {
    const started = performance.now();
    await expect(
      startServer({
        name: 'NOWHERE',
        command: 'lock-test-no-such-server',
        args: () => [],
        url: () => 'nowhere://',
        installHint: 'it does not exist',
      }),
    ).rejects.toThrow(
      /^lock-test-no-such-server did not become ready on ports \d+: NOWHERE exited/,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
