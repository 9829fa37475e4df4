/**
 * Time in the logs: `process.hrtime.bigint()` nanoseconds, the one monotonic clock every
 * process on this host shares. The library's own times (`lock.validUntil`) are on its
 * locker's clock, `performance.now()` by default, which is the same clock counted from this
 * process's start: a constant offset converts one into the other.
 * @module
 */

/**
 * Nanoseconds between `performance.now()`'s zero and `process.hrtime`'s, in this process.
 * Read as hrtime, performance.now(), hrtime, keeping the reading with the shortest bracket: a
 * single pair of reads on a busy machine can be split by a preemption, and the offset would be
 * off by that long (this happened: validity ends logged 20–30 ms early).
 */
function measureOffset(): bigint {
  let best = 0n;
  let bestSpan: bigint | undefined;
  for (let i = 0; i < 50; i++) {
    const before = process.hrtime.bigint();
    const perf = performance.now();
    const after = process.hrtime.bigint();
    const span = after - before;
    if (bestSpan === undefined || span < bestSpan) {
      bestSpan = span;
      best = (before + after) / 2n - BigInt(Math.round(perf * 1e6));
    }
  }
  return best;
}

const offsetNs: bigint = measureOffset();

/** Now, as a log time. */
export function nowNs(): string {
  return process.hrtime.bigint().toString();
}

/** A `performance.now()` reading (ms, this process) as a log time. */
export function perfToNs(perfMs: number): string {
  return (offsetNs + BigInt(Math.round(perfMs * 1e6))).toString();
}
