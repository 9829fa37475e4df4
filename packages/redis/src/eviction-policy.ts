import { ErrorReply } from 'redis';

/**
 * What `maxmemory-policy` means for locks, or `undefined` when it is safe (`noeviction`).
 * - `allkeys-*` may evict any key: a held lock (another client then takes it while the holder
 *   still works) and the fence counter (fences restart from 1: no longer monotonic).
 * - `volatile-*` may evict keys with an expiry: held locks (all have one), but not fence
 *   counters (they have none), so fences stay monotonic while exclusion can break.
 */
export function evictionRisk(policy: string): string | undefined {
  if (policy === 'noeviction') return undefined;
  if (policy.startsWith('volatile-')) {
    return `maxmemory-policy is "${policy}": under memory pressure Redis may evict held locks (they have a TTL) before they expire, so two holders could overlap; fences stay monotonic. Use "noeviction" for locks.`;
  }
  return `maxmemory-policy is "${policy}": under memory pressure Redis may evict held locks and fence counters, so two holders could overlap and fences could restart. Use "noeviction" for locks.`;
}

/** Reads the policy from a `CONFIG GET maxmemory-policy` reply (RESP2 array or RESP3 map). */
export function policyFromReply(reply: unknown): string | undefined {
  let value: unknown;
  if (Array.isArray(reply)) value = reply[1];
  else if (reply instanceof Map) value = reply.get('maxmemory-policy');
  else if (typeof reply === 'object' && reply !== null) {
    value = (reply as Record<string, unknown>)['maxmemory-policy'];
  }
  return typeof value === 'string' ? value : undefined;
}

/**
 * Asks the server for its eviction policy and calls `warn` if it can evict locks. A server that
 * disables CONFIG (managed services often do) is tolerated: nothing is said.
 */
export async function checkEvictionPolicy(
  configGet: () => Promise<unknown>,
  warn: (message: string) => void,
): Promise<void> {
  let reply: unknown;
  try {
    reply = await configGet();
  } catch (error) {
    const cause = error instanceof Error ? error.cause : undefined;
    if (error instanceof ErrorReply || cause instanceof ErrorReply) return; // CONFIG disabled or not allowed
    return; // unreachable right now: the lock calls themselves will report it
  }
  const policy = policyFromReply(reply);
  const risk = policy === undefined ? undefined : evictionRisk(policy);
  if (risk !== undefined) warn(risk);
}
