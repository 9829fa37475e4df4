import { spawnSync } from 'node:child_process';
import {
  type RunningServer,
  redisServerSpec,
  serverAvailable,
  startServer,
} from '@lock/testkit/servers';

/** Whether redis-server can run here (warns loudly when not; throws under CI). */
export const redisAvailable = (): boolean => serverAvailable(redisServerSpec());

/**
 * Starts a redis-server of this test's own (never `LOCK_TEST_REDIS_URL`): the tests freeze it
 * or give it a password.
 */
export async function startOwnRedis(extraArgs?: (dir: string) => string[]): Promise<RunningServer> {
  const saved = process.env['LOCK_TEST_REDIS_URL'];
  delete process.env['LOCK_TEST_REDIS_URL'];
  try {
    return await startServer(redisServerSpec(extraArgs));
  } finally {
    if (saved !== undefined) process.env['LOCK_TEST_REDIS_URL'] = saved;
  }
}

/** Runs one command with `redis-cli` (a raw client) and returns its reply, trimmed. */
export function redisCli(server: RunningServer, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-u', server.url, ...args], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** The Redis key of lock `key` under @lock/redis's default prefix. */
export const lockKeyOf = (key: string): string => `{lock:${key}}`;
