import type { ContendedResult, HeldManyResult, UncontendedResult } from './workloads.js';

/** Everything measured for one adapter. */
export interface AdapterResult {
  readonly adapter: string;
  readonly sequential?: UncontendedResult;
  readonly parallel50?: UncontendedResult;
  readonly contended?: ContendedResult;
  readonly heldMany?: HeldManyResult;
  readonly error?: string;
}

/** One suite's results. */
export interface SuiteResult {
  readonly suite: string;
  readonly notes: string[];
  readonly results: AdapterResult[];
  readonly skipped?: string;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The results as markdown: one table per suite, a column per implementation. */
export function toMarkdown(meta: Record<string, string>, suites: SuiteResult[]): string {
  const lines: string[] = ['# pnpm bench results', ''];
  for (const [k, v] of Object.entries(meta)) lines.push(`- ${k}: ${v}`);
  for (const suite of suites) {
    lines.push('', `## ${suite.suite}`, '');
    if (suite.skipped) {
      lines.push(`Skipped: ${suite.skipped}`);
      continue;
    }
    for (const note of suite.notes) lines.push(`- ${note}`);
    lines.push('');
    const rs = suite.results;
    const first = rs[0];
    const ratio = (pick: (r: AdapterResult) => number | undefined, r: AdapterResult) => {
      const base = first && pick(first);
      const value = pick(r);
      return base && value ? ` (${fmt(value / base, 2)}×)` : '';
    };
    // A suite that ran only some workloads (see Suite.rounds) shows only their rows.
    const ran = (pick: (r: AdapterResult) => unknown) => rs.some((r) => pick(r) !== undefined);
    const row = (label: string, cell: (r: AdapterResult) => string) =>
      lines.push(`| ${label} | ${rs.map((r) => (r.error ? 'error' : cell(r))).join(' | ')} |`);
    lines.push(`| workload | ${rs.map((r) => r.adapter).join(' | ')} |`);
    lines.push(`|---|${rs.map(() => '---').join('|')}|`);
    row(
      'pairs/s, 1 in flight',
      (r) => fmt(r.sequential?.pairsPerSecond) + ratio((x) => x.sequential?.pairsPerSecond, r),
    );
    row(
      'pair p50 / p99 ms, 1 in flight',
      (r) => `${fmt(r.sequential?.p50Ms, 3)} / ${fmt(r.sequential?.p99Ms, 3)}`,
    );
    row(
      'pairs/s, 50 keys in parallel',
      (r) => fmt(r.parallel50?.pairsPerSecond) + ratio((x) => x.parallel50?.pairsPerSecond, r),
    );
    row(
      'pair p50 / p99 ms, 50 in parallel',
      (r) => `${fmt(r.parallel50?.p50Ms, 3)} / ${fmt(r.parallel50?.p99Ms, 3)}`,
    );
    row(
      'client CPU µs per pair, 50 in parallel',
      (r) => fmt(r.parallel50?.cpuUsPerPair, 1) + ratio((x) => x.parallel50?.cpuUsPerPair, r),
    );
    if (ran((r) => r.contended)) contendedRows(row);
    if (ran((r) => r.heldMany)) heldManyRows(row);
    for (const r of rs) if (r.error) lines.push('', `${r.adapter}: ${r.error}`);
  }
  return `${lines.join('\n')}\n`;
}

type Row = (label: string, cell: (r: AdapterResult) => string) => void;

function contendedRows(row: Row): void {
  row('contended (10 workers, 1 key): acquisitions/s', (r) =>
    fmt(r.contended?.acquisitionsPerSecond),
  );
  row(
    'contended: wait p50 / p99 / max ms',
    (r) =>
      `${fmt(r.contended?.waitP50Ms, 1)} / ${fmt(r.contended?.waitP99Ms, 1)} / ${fmt(r.contended?.waitMaxMs, 1)}`,
  );
  row(
    'contended: release→next acquire p50 / p99 ms',
    (r) => `${fmt(r.contended?.handoffP50Ms, 3)} / ${fmt(r.contended?.handoffP99Ms, 3)}`,
  );
  row('contended: failed acquires', (r) => fmt(r.contended?.failed));
  row(
    'contended: per-worker count min / max of mean',
    (r) => `${fmt(r.contended?.spread.min, 2)} / ${fmt(r.contended?.spread.max, 2)}`,
  );
}

function heldManyRows(row: Row): void {
  row('10,000 held: heap per lock (bytes)', (r) => fmt(r.heldMany?.heapPerLockBytes));
  row('10,000 held: RSS MiB', (r) => fmt(r.heldMany?.rssMiB));
  row('10,000 held: backend requests/s', (r) => fmt(r.heldMany?.requestsPerSecond));
}
