import type { Suite } from './adapter.js';
import type { AdapterResult } from './report.js';
import { type UncontendedResult, uncontended } from './workloads.js';

/**
 * Runs `suite`'s uncontended workloads `rounds` times, the adapters taking turns within each
 * round (A B C, A B C, …) so that a slow stretch of the shared machine hits every adapter alike,
 * and reports the median of each figure. Also returns every round's 50-in-parallel pairs/s and
 * CPU per pair, for the notes.
 */
export async function runInterleaved(
  suite: Suite,
  rounds: number,
  durationMs: number,
): Promise<{ results: AdapterResult[]; notes: string[] }> {
  const runs = suite.adapters.map(() => ({
    sequential: [] as UncontendedResult[],
    parallel50: [] as UncontendedResult[],
  }));
  for (const adapter of suite.adapters) await uncontended(adapter, 10, 500); // warm-up
  for (let round = 0; round < rounds; round++) {
    console.log(`${suite.name}: round ${round + 1} of ${rounds}`);
    for (const [i, adapter] of suite.adapters.entries()) {
      runs[i]?.sequential.push(await uncontended(adapter, 1, durationMs));
      runs[i]?.parallel50.push(await uncontended(adapter, 50, durationMs));
    }
  }
  const results = suite.adapters.map((adapter, i) => ({
    adapter: adapter.name,
    sequential: medianOf(runs[i]?.sequential ?? []),
    parallel50: medianOf(runs[i]?.parallel50 ?? []),
  }));
  const notes = suite.adapters.map((adapter, i) => {
    const rounds = runs[i]?.parallel50 ?? [];
    const pairs = rounds.map((r) => Math.round(r.pairsPerSecond).toLocaleString('en-US'));
    const cpu = rounds.map((r) => r.cpuUsPerPair.toFixed(1));
    return `${adapter.name}, 50 in parallel, each round: pairs/s ${pairs.join(', ')}; CPU µs/pair ${cpu.join(', ')}`;
  });
  return { results, notes };
}

/** Each field's median over `results`. */
function medianOf(results: UncontendedResult[]): UncontendedResult {
  const median = (pick: (r: UncontendedResult) => number) => {
    const values = results.map(pick).sort((a, b) => a - b);
    const middle = Math.floor(values.length / 2);
    return values.length % 2 === 1
      ? (values[middle] as number)
      : ((values[middle - 1] as number) + (values[middle] as number)) / 2;
  };
  return {
    pairsPerSecond: median((r) => r.pairsPerSecond),
    p50Ms: median((r) => r.p50Ms),
    p99Ms: median((r) => r.p99Ms),
    errors: results.reduce((total, r) => total + r.errors, 0),
    cpuUsPerPair: median((r) => r.cpuUsPerPair),
  };
}
