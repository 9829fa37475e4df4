import { spawnSync } from 'node:child_process';
import { type RunningServer, type ServerSpec, serverAvailable, startServer } from '@lock/testkit';

/** A redis-server on a free loopback port, no persistence; `extraArgs` are added. */
export function redisSpec(extraArgs: (dir: string) => string[] = () => []): ServerSpec {
  return {
    name: 'REDIS',
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
      ...extraArgs(dir),
    ],
    url: (ports) => `redis://127.0.0.1:${ports[0]}`,
    ready: async (ports) => {
      const result = spawnSync('redis-cli', ['-p', String(ports[0]), 'ping'], {
        encoding: 'utf8',
        timeout: 2_000,
      });
      const out = result.stdout.trim();
      // NOAUTH also proves the server answers (servers started with a password).
      return out === 'PONG' || out.includes('NOAUTH');
    },
    installHint: 'apt-get install redis-server',
  };
}

/** Whether redis-server can run here (warns loudly when not; throws under CI). */
export const redisAvailable = (): boolean =>
  serverAvailable({
    name: 'REDIS',
    command: 'redis-server',
    installHint: 'apt-get install redis-server',
  });

/** Starts one redis-server (or uses LOCK_TEST_REDIS_URL). */
export function startRedis(extraArgs?: (dir: string) => string[]): Promise<RunningServer> {
  return startServer(redisSpec(extraArgs));
}

/**
 * Starts a redis-server that is always a fresh local process (never LOCK_TEST_REDIS_URL),
 * for tests that freeze, kill or configure their server.
 */
export async function startOwnRedis(extraArgs?: (dir: string) => string[]): Promise<RunningServer> {
  const saved = process.env['LOCK_TEST_REDIS_URL'];
  delete process.env['LOCK_TEST_REDIS_URL'];
  try {
    return await startServer(redisSpec(extraArgs));
  } finally {
    if (saved !== undefined) process.env['LOCK_TEST_REDIS_URL'] = saved;
  }
}
