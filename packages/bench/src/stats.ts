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

/** A confidence interval. */
export interface Interval {
  readonly low: number;
  readonly high: number;
}

/**
 * A distribution-free confidence interval for the median of `values`: the order statistics
 * x(j) and x(n + 1 − j) (1-based, sorted) for the largest j such that fewer than j of n values
 * fall below the true median with a chance of at most (1 − `confidence`) / 2 (a binomial tail
 * with p = ½). No assumption on the shape of the rounds' distribution, which on a shared machine
 * is skewed. Undefined when there are too few values for that confidence (fewer than 6 at 95%).
 */
export function medianInterval(values: readonly number[], confidence = 0.95): Interval | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  const tail = (1 - confidence) / 2;
  let j = 0;
  let cumulative = 0;
  let probability = 0.5 ** n; // P(X = 0) for X ~ Binomial(n, ½)
  for (let i = 0; i < n; i++) {
    cumulative += probability;
    if (cumulative > tail) break;
    j = i + 1;
    probability = (probability * (n - i)) / (i + 1);
  }
  if (j === 0) return undefined;
  return { low: sorted[j - 1] as number, high: sorted[n - j] as number };
}

/**
 * Each round's `key` figure of `other` over `base`'s in the same round: pairs measured back to
 * back, so the machine's slow stretches, which move both, mostly cancel. Rounds where either
 * figure is missing or the base is 0 are left out.
 */
export function pairedRatios(
  base: readonly Readonly<Record<string, number>>[],
  other: readonly Readonly<Record<string, number>>[],
  key: string,
): number[] {
  const ratios: number[] = [];
  for (const [i, round] of base.entries()) {
    const a = round[key];
    const b = other[i]?.[key];
    if (a === undefined || b === undefined || !(a > 0) || !Number.isFinite(b)) continue;
    ratios.push(b / a);
  }
  return ratios;
}
