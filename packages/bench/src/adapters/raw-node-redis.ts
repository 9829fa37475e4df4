import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { LockAdapter } from '../adapter.js';
import { COMPARE_AND_DELETE } from '../redis-benchmark.js';

/**
 * The lock a careful user writes by hand on node-redis: SET NX PX to acquire, the
 * compare-and-delete script by EVALSHA to release (loaded once, reloaded on NOSCRIPT), one
 * connection, and no per-command timeout (`commandOptions.timeout: 0`, so no timer per command).
 * It polls every `retryMs` when the key is taken, and neither renews nor fences.
 */
export async function rawNodeRedis(
  url: string,
  retryMs: number,
  requestCount?: () => Promise<number>,
): Promise<LockAdapter> {
  const client = createClient({ url, commandOptions: { timeout: 0 } } as Parameters<
    typeof createClient
  >[0]);
  await client.connect();
  let sha = await client.scriptLoad(COMPARE_AND_DELETE);
  const release = async (key: string, token: string) => {
    try {
      await client.evalSha(sha, { keys: [key], arguments: [token] });
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      sha = await client.scriptLoad(COMPARE_AND_DELETE);
      await client.evalSha(sha, { keys: [key], arguments: [token] });
    }
  };
  return {
    name: 'raw node-redis 6.3.1 (SET NX PX + EVALSHA)',
    keepalive: false,
    ...(requestCount ? { requestCount } : {}),
    acquire: async (key, { ttlMs, timeoutMs }) => {
      const token = randomBytes(16).toString('base64url');
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const set = await client.set(key, token, {
          condition: 'NX',
          expiration: { type: 'PX', value: ttlMs },
        });
        if (set !== null) break;
        if (performance.now() > deadline) throw new Error('timeout');
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
      return { release: () => release(key, token) };
    },
    close: async () => void (await client.quit()),
  };
}
