import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';

/**
 * Seeded random numbers (pure-rand's xoroshiro128+), so that a run's choices (which key, how long
 * to hold, which fault, when) replay from its seed.
 */
export class SeededRandom {
  readonly #generator: ReturnType<typeof xoroshiro128plus>;

  constructor(seed: number) {
    this.#generator = xoroshiro128plus(seed | 0);
  }

  /** An integer in [`min`, `max`]. */
  int(min: number, max: number): number {
    return unsafeUniformIntDistribution(Math.ceil(min), Math.floor(max), this.#generator);
  }

  /** A number in [`range[0]`, `range[1]`], to the millisecond. */
  between(range: readonly [number, number]): number {
    return this.int(range[0], range[1]);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.int(0, 999_999) < p * 1_000_000;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A seed for a child generator (a worker, a fault), independent of later draws here. */
  fork(): number {
    return this.int(0, 2 ** 31 - 1);
  }
}

/**
 * Mixes a seed with a label (a scenario, a backend, a worker) into a new 31-bit seed: FNV-1a over
 * the label, five lines, so no hashing library is pulled in for it.
 */
export function deriveSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 1) & 0x7fffffff;
}
