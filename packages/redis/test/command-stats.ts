import type { createClient } from 'redis';

/**
 * Calls per command the server has counted so far (`INFO commandstats`; commands run inside
 * scripts count), by lower-case command name. The test files that count what a path costs
 * Redis all read it here.
 */
export async function commandCalls(
  raw: ReturnType<typeof createClient>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const info = await raw.info('commandstats');
  for (const [, name, calls] of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    counts[name as string] = Number(calls);
  }
  return counts;
}

/** Script runs the server has counted so far (EVALSHA and EVAL). */
export async function scriptRuns(raw: ReturnType<typeof createClient>): Promise<number> {
  const counts = await commandCalls(raw);
  return (counts['evalsha'] ?? 0) + (counts['eval'] ?? 0);
}
