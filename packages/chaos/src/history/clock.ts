/**
 * Time in the logs: `process.hrtime.bigint()` nanoseconds, the one monotonic clock every
 * process on this host shares. The library's own times (`lock.validUntil`) are on its
 * locker's clock, `performance.now()` by default, which is the same clock counted from this
 * process's start: a constant offset, measured once, converts one into the other.
 * @module
 */

/** Nanoseconds between `performance.now()`'s zero and `process.hrtime`'s, in this process. */
const offsetNs: bigint = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));

/** Now, as a log time. */
export function nowNs(): string {
  return process.hrtime.bigint().toString();
}

/** A `performance.now()` reading (ms, this process) as a log time. */
export function perfToNs(perfMs: number): string {
  return (offsetNs + BigInt(Math.round(perfMs * 1e6))).toString();
}
