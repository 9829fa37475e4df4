import type { Footing } from './child-protocol.js';
import type { ServerCounter } from './server-counters.js';
import { type Spread, spreadOf } from './stats.js';
import type { ContendedResult, HeldManyResult, UncontendedResult } from './workloads.js';

/**
 * One column of a suite's table: an implementation (or the server's own floor) and the
 * workloads it can run. A workload it lacks shows as "–".
 */
export interface Column {
  readonly name: string;
  /** Whether it renews held locks by itself (shown in the held-lock rows). */
  readonly renews?: boolean;
  uncontended?(inFlight: number, durationMs: number): Promise<UncontendedResult>;
  /** Undefined when the column has no separate configuration for `footing`. */
  contended?(footing: Footing, durationMs: number): Promise<ContendedResult | undefined>;
  held?(): Promise<HeldManyResult>;
}

/** Every figure of one column, each the median and spread of its rounds. */
export interface ColumnResult {
  readonly column: string;
  readonly renews?: boolean;
  readonly figures: Record<string, Spread>;
  /** Each round's figures, in the order measured (a failed measurement leaves its figures out). */
  readonly rounds: readonly Record<string, number>[];
  readonly errors: string[];
}

/** The workloads a round runs, in order. */
export const WORKLOADS = ['uncontended', 'contended', 'held'] as const;
/** One of {@link WORKLOADS}. */
export type Workload = (typeof WORKLOADS)[number];

/** How a suite's rounds run. */
export interface RoundsOptions {
  readonly rounds: number;
  readonly durationMs: number;
  /** Only the uncontended workloads (for suites comparing variants of one implementation). */
  readonly uncontendedOnly: boolean;
  /** Which workloads run (`pnpm bench etcd --only=contended`); all of them when undefined. */
  readonly only?: ReadonlySet<Workload> | undefined;
  /** The suite's server's own command counter, read around each uncontended run. */
  readonly counter: ServerCounter | undefined;
  readonly log: (line: string) => void;
}

/**
 * Runs every workload `rounds` times with the columns taking turns within each round (A B C,
 * then B C A, …) so that a slow stretch of the shared machine hits every column alike, and
 * reports each figure's median with the min..max of its rounds. A failed measurement is
 * recorded as an error and leaves that round out.
 */
export async function runRounds(
  columns: readonly Column[],
  options: RoundsOptions,
): Promise<ColumnResult[]> {
  const runs = (workload: Workload) => options.only === undefined || options.only.has(workload);
  const rounds = columns.map(() => [] as Record<string, number>[]);
  const errors = columns.map(() => new Set<string>());
  const attempt = async (i: number, what: string, measure: () => Promise<void>) => {
    try {
      await measure();
    } catch (error) {
      errors[i]?.add(`${what}: ${(error as Error).message}`);
    }
  };
  for (const column of columns) await column.uncontended?.(10, 500).catch(() => {}); // warm-up
  // The contenders' processes too, through the contended path (a short run, not recorded): the
  // first calls in a fresh process load and compile code, and the first column to run would
  // otherwise pay for the driver code it shares with the next.
  if (!options.uncontendedOnly && runs('contended'))
    for (const column of columns) await column.contended?.('equal', 500).catch(() => undefined);
  for (let round = 0; round < options.rounds; round++) {
    const figures = columns.map(() => ({}) as Record<string, number>);
    const order = columns.map((_, i) => (i + round) % columns.length);
    const each = async (
      what: string,
      measure: (column: Column, into: Record<string, number>) => Promise<void>,
    ) => {
      options.log(`round ${round + 1} of ${options.rounds}: ${what}`);
      for (const i of order)
        await attempt(i, what, () =>
          measure(columns[i] as Column, figures[i] as Record<string, number>),
        );
    };
    for (const [prefix, inFlight] of runs('uncontended')
      ? ([
          ['seq', 1],
          ['par', 50],
        ] as const)
      : []) {
      await each(`uncontended, ${inFlight} in flight`, async (column, into) => {
        if (column.uncontended === undefined) return;
        const before = await options.counter?.read();
        const result = await column.uncontended(inFlight, options.durationMs);
        const after = await options.counter?.read();
        if (result.pairs === 0) throw new Error(`no pair completed (${result.errors} errors)`);
        Object.assign(into, flatten(prefix, result));
        if (before !== undefined && after !== undefined)
          into[`${prefix}.serverCommandsPerPair`] = (after - before) / result.pairs;
      });
    }
    if (!options.uncontendedOnly) {
      for (const footing of runs('contended') ? (['equal', 'defaults'] as const) : []) {
        await each(`contended, ${footing}`, async (column, into) => {
          const result = await column.contended?.(footing, options.durationMs);
          if (result === undefined) return;
          const { spread, ...rest } = result;
          Object.assign(
            into,
            flatten(footing, { ...rest, spreadMin: spread.min, spreadMax: spread.max }),
          );
        });
      }
      if (runs('held')) {
        await each('held locks', async (column, into) => {
          const result = await column.held?.();
          if (result !== undefined) Object.assign(into, flatten('held', result));
        });
      }
    }
    for (const [i, f] of figures.entries()) rounds[i]?.push(f);
  }
  return columns.map((column, i) => {
    const all = rounds[i] ?? [];
    const keys = new Set(all.flatMap((f) => Object.keys(f)));
    const figures: Record<string, Spread> = {};
    for (const key of keys) {
      const spread = spreadOf(all.flatMap((f) => (key in f ? [f[key] as number] : [])));
      if (spread !== undefined) figures[key] = spread;
    }
    return {
      column: column.name,
      ...(column.renews === undefined ? {} : { renews: column.renews }),
      figures,
      rounds: all,
      errors: [...(errors[i] ?? [])],
    };
  });
}

/** `result`'s numeric fields as `prefix.field`. */
function flatten(prefix: string, result: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(result))
    if (typeof value === 'number') out[`${prefix}.${key}`] = value;
  return out;
}
