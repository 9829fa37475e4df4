import { type RunningServer, redisServerSpec, serverAvailable, startServer } from '@lock/testkit';

/**
 * Whether Redis can run here, as a local process or in a container (warns loudly when not;
 * throws under CI).
 */
export const redisAvailable = (): boolean => serverAvailable(redisServerSpec());

/** Whether redis-server itself is installed, for servers that always run as local processes. */
export const redisBinaryAvailable = (): boolean =>
  serverAvailable({
    name: 'REDIS',
    command: 'redis-server',
    installHint: 'apt-get install redis-server',
  });

/** Starts one redis-server (or uses LOCK_TEST_REDIS_URL). */
export function startRedis(extraArgs?: (dir: string) => string[]): Promise<RunningServer> {
  return startServer(redisServerSpec(extraArgs));
}

/**
 * Starts a redis-server that is always a fresh local process (never LOCK_TEST_REDIS_URL),
 * for tests that freeze, kill or configure their server.
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

/** `openBackend` then `connect()`, as core's `connect(uri)` does; closes the backend on failure. */
export async function openAndConnect(
  uri: string,
  options?: Record<string, unknown>,
): Promise<import('@lock/core').LockBackend> {
  const { openBackend } = await import('../src/index.js');
  const backend = await openBackend(uri, options);
  try {
    await backend.connect?.();
    return backend;
  } catch (error) {
    await backend.close();
    throw error;
  }
}
