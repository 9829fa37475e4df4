/**
 * Where a new lock record's fence starts. Records are not deleted on release, so a fence keeps
 * growing by one per acquisition; but a record can still vanish (an operator, a TTL clean-up of
 * idle records, a restored backup). A new record therefore starts at the wall clock in
 * microseconds, above every fence an earlier record of the same key handed out as long as that
 * key was taken less than once per microsecond on average since and the clocks are roughly right.
 * @module
 */

/** The last value {@link initialFence} returned in this process. */
let last = 0;

/**
 * The fence of a record created now: the wall clock in microseconds (about 1.8e15 in 2027, far
 * below 2^53), strictly above the previous value returned in this process.
 */
export function initialFence(): number {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  last = micros > last ? micros : last + 1;
  return last;
}
