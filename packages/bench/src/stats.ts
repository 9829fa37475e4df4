/** A figure measured in several rounds: its median and the range the rounds spanned. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every round's value, in the order measured. */
  readonly values: readonly number[];
}

/** The median of `values` (the mean of the middle two when their count is even). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Median, min and max of `values` (NaN rounds, from a failed measurement, are left out). */
export function spreadOf(values: readonly number[]): Spread | undefined {
  const measured = values.filter((v) => Number.isFinite(v));
  if (measured.length === 0) return undefined;
  return {
    median: median(measured),
    min: Math.min(...measured),
    max: Math.max(...measured),
    values: measured,
  };
}

/**
 * Whether `a` and `b` differ by more than the rounds' spread: their min..max ranges do not
 * overlap, so every round of one beat every round of the other. Anything less is reported as
 * "within the spread", however far apart the medians are; so is a figure of a single round,
 * whose spread is unknown.
 */
export function differsBeyondSpread(a: Spread, b: Spread): boolean {
  if (a.values.length < 2 || b.values.length < 2) return false;
  return a.min > b.max || b.min > a.max;
}

/** Median and spread of each numeric field of `rounds` (fields missing in a round are skipped). */
export function spreadsOf<K extends string>(
  rounds: readonly Partial<Record<K, number | undefined>>[],
  keys: readonly K[],
): Partial<Record<K, Spread>> {
  const out: Partial<Record<K, Spread>> = {};
  for (const key of keys) {
    const values = rounds.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
    const spread = spreadOf(values);
    if (spread !== undefined) out[key] = spread;
  }
  return out;
}
