import type { Locker } from '@lock/core';
import { percentile } from '@lock/testkit/servers';

/** What one run of the seed scenario measured. */
export interface SeedResult {
  readonly contenders: number;
  readonly counter: number;
  readonly elapsedMs: number;
  readonly acquisitionsPerSecond: number;
  /** Release → next acquire, in ms. */
  readonly handoff: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Whether fences grew strictly and no two holders overlapped. */
  readonly exclusive: boolean;
}

/**
 * The src-d example: `contenders` tasks spread over `lockers` each take `key`, read a shared
 * counter, yield, write it back plus one, and release. Without mutual exclusion the counter
 * ends below `contenders`.
 */
export async function runSeedScenario(
  lockers: readonly Locker[],
  contenders: number,
  key: string,
): Promise<SeedResult> {
  let counter = 0;
  const spans: { fence: number; acquiredAt: number; releasingAt: number }[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: contenders }, async (_, i) => {
      const locker = lockers[i % lockers.length] as Locker;
      const lock = await locker.lock(key, { timeout: 300_000 });
      const acquiredAt = performance.now();
      try {
        const read = counter;
        await new Promise((resolve) => setImmediate(resolve));
        lock.assertHeld();
        counter = read + 1;
      } finally {
        spans.push({ fence: lock.fence, acquiredAt, releasingAt: performance.now() });
        await lock.release();
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  spans.sort((a, b) => a.fence - b.fence);
  const handoffs: number[] = [];
  let exclusive = true;
  for (let i = 1; i < spans.length; i++) {
    const previous = spans[i - 1] as (typeof spans)[number];
    const current = spans[i] as (typeof spans)[number];
    if (current.fence <= previous.fence || current.acquiredAt < previous.releasingAt)
      exclusive = false;
    handoffs.push(current.acquiredAt - previous.releasingAt);
  }
  return {
    contenders,
    counter,
    elapsedMs,
    acquisitionsPerSecond: (contenders / elapsedMs) * 1000,
    handoff: {
      p50: percentile(handoffs, 50),
      p90: percentile(handoffs, 90),
      p99: percentile(handoffs, 99),
      max: percentile(handoffs, 100),
    },
    exclusive,
  };
}
