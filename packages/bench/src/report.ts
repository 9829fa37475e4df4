import type { ColumnResult } from './interleaved.js';
import { differsBeyondSpread, median, medianInterval, pairedRatios, type Spread } from './stats.js';

/** One suite's results. */
export interface SuiteResult {
  readonly suite: string;
  readonly notes: string[];
  readonly columns: ColumnResult[];
  readonly rounds?: number;
  readonly skipped?: string;
}

/** A row of the table: a figure, how to print it, and whether to compare it across columns. */
interface RowSpec {
  readonly label: string;
  readonly key: string;
  readonly digits: number;
  /** Printed as a ratio to the first column, and listed when beyond the spread. */
  readonly compare: boolean;
}

const row = (label: string, key: string, digits = 0, compare = true): RowSpec => ({
  label,
  key,
  digits,
  compare,
});

const UNCONTENDED = (prefix: string, what: string): RowSpec[] => [
  row(`pairs/s, ${what}`, `${prefix}.pairsPerSecond`),
  row(`pair p50 ms, ${what}`, `${prefix}.p50Ms`, 3),
  row(`pair p99 ms, ${what}`, `${prefix}.p99Ms`, 3),
  row(`client CPU µs per pair, ${what}`, `${prefix}.cpuUsPerPair`, 1),
  row(`server commands per pair, ${what}`, `${prefix}.serverCommandsPerPair`, 2),
];

const CONTENDED = (prefix: string, what: string): RowSpec[] => [
  row(`contended, ${what}: acquisitions/s`, `${prefix}.acquisitionsPerSecond`),
  row(`contended, ${what}: wait p50 ms`, `${prefix}.waitP50Ms`, 1),
  row(`contended, ${what}: wait p99 ms`, `${prefix}.waitP99Ms`, 1),
  row(`contended, ${what}: wait max ms`, `${prefix}.waitMaxMs`, 1),
  row(`contended, ${what}: release→next acquire p50 ms`, `${prefix}.handoffP50Ms`, 3),
  row(`contended, ${what}: release→next acquire p99 ms`, `${prefix}.handoffP99Ms`, 3),
  row(`contended, ${what}: failed acquires`, `${prefix}.failed`, 0, false),
  row(
    `contended, ${what}: fewest acquisitions of a contender ÷ mean`,
    `${prefix}.spreadMin`,
    2,
    false,
  ),
  row(
    `contended, ${what}: most acquisitions of a contender ÷ mean`,
    `${prefix}.spreadMax`,
    2,
    false,
  ),
];

const HELD: RowSpec[] = [
  row('held: heap per lock, bytes', 'held.heapPerLockBytes'),
  row('held: RSS MiB', 'held.rssMiB', 0, false),
  row('held: seconds to acquire them', 'held.acquireSeconds', 2),
  row('held: client requests/s while holding', 'held.requestsPerSecond', 1),
  row('held: server commands/s while holding', 'held.serverCommandsPerSecond', 1),
];

/** Every row, in table order. */
export const ROWS: readonly RowSpec[] = [
  ...UNCONTENDED('seq', '1 in flight'),
  ...UNCONTENDED('par', '50 keys in parallel'),
  ...CONTENDED('equal', 'equal footing'),
  ...CONTENDED('defaults', 'defaults'),
  ...HELD,
];

const fmt = (n: number, digits: number) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** `median (min–max)`, or just the median when every round gave the same. */
export function formatSpread(spread: Spread, digits: number): string {
  const median = fmt(spread.median, digits);
  const [min, max] = [fmt(spread.min, digits), fmt(spread.max, digits)];
  return min === max ? median : `${median} (${min}–${max})`;
}

/**
 * `value ÷ base` as `0.76×`, prefixed with `~` when the two are within the spread of their
 * rounds (their min..max ranges overlap), so only unmarked ratios are differences.
 */
export function formatRatio(value: Spread, base: Spread): string {
  if (base.median === 0) return '';
  const ratio = `${fmt(value.median / base.median, 2)}×`;
  return differsBeyondSpread(value, base) ? ratio : `~${ratio}`;
}

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
    lines.push('', ...suiteTable(suite.columns), '', ...beyondSpread(suite.columns));
    // Only where an interval exists: 3 rounds (the default) give ratios without one.
    if ((suite.rounds ?? 0) >= MIN_PAIRED_ROUNDS) lines.push('', ...pairedTable(suite.columns));
    for (const c of suite.columns)
      for (const error of c.errors) lines.push('', `${c.column}: ${error}`);
  }
  return `${lines.join('\n')}\n`;
}

function suiteTable(columns: readonly ColumnResult[]): string[] {
  const base = columns[0];
  const lines = [
    `| workload | ${columns.map((c) => c.column).join(' | ')} |`,
    `|---|${columns.map(() => '---').join('|')}|`,
  ];
  const heldRan = columns.some((c) => 'held.heapPerLockBytes' in c.figures);
  if (heldRan)
    lines.push(
      `| held: renews held locks | ${columns.map((c) => (c.renews === undefined ? '–' : c.renews ? 'yes' : 'no')).join(' | ')} |`,
    );
  for (const spec of ROWS) {
    if (!columns.some((c) => spec.key in c.figures)) continue;
    const cells = columns.map((c) => {
      const value = c.figures[spec.key];
      if (value === undefined)
        return spec.key.startsWith('defaults.') && `equal${spec.key.slice(8)}` in c.figures
          ? 'as above'
          : '–';
      const baseValue = base?.figures[spec.key];
      const ratio = spec.compare && c !== base && baseValue ? formatRatio(value, baseValue) : '';
      return formatSpread(value, spec.digits) + (ratio ? ` · ${ratio}` : '');
    });
    lines.push(`| ${spec.label} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The differences between the first column and each other that are larger than the spread. */
export function beyondSpread(columns: readonly ColumnResult[]): string[] {
  const [base, ...others] = columns;
  if (base === undefined || others.length === 0) return [];
  const found: string[] = [];
  for (const spec of ROWS) {
    if (!spec.compare) continue;
    const a = base.figures[spec.key];
    if (a === undefined || a.median === 0) continue;
    for (const other of others) {
      const b = other.figures[spec.key];
      if (b === undefined || !differsBeyondSpread(a, b)) continue;
      found.push(`- ${spec.label}: ${other.column} ${fmt(b.median / a.median, 2)}× ${base.column}`);
    }
  }
  return [
    `Differences from ${base.column} larger than the spread (every round of one beyond every round of the other); all others are within it:`,
    '',
    ...(found.length > 0 ? found : ['- none']),
  ];
}

/** Fewest rounds for which the median of paired ratios has a 95% interval (see `medianInterval`). */
export const MIN_PAIRED_ROUNDS = 6;

/** The figures compared round by round: throughput and client CPU. */
const PAIRED_ROWS = ROWS.filter(
  (spec) => spec.key.endsWith('.pairsPerSecond') || spec.key.endsWith('.cpuUsPerPair'),
);

/**
 * Each column over the first, round by round (the two ran back to back in every round), as the
 * median ratio with its 95% confidence interval; for runs of at least {@link MIN_PAIRED_ROUNDS}
 * rounds (the otel suites always). Differences of a few percent, which the min–max spread of
 * rounds cannot show, are read here: an interval that excludes 1.00 is a difference.
 */
export function pairedTable(columns: readonly ColumnResult[]): string[] {
  const [base, ...others] = columns;
  if (base === undefined || others.length === 0) return [];
  const lines = [
    `Paired ratios to ${base.column}: each round's figure over ${base.column}'s in the same round, the median of those ratios and its 95% confidence interval (distribution-free, from the order statistics). An interval that excludes 1.00 is a difference; one that includes it bounds the difference either way.`,
    '',
    `| figure | ${others.map((c) => c.column).join(' | ')} |`,
    `|---|${others.map(() => '---').join('|')}|`,
  ];
  for (const spec of PAIRED_ROWS) {
    if (!(spec.key in base.figures)) continue;
    const cells = others.map((other) => {
      const ratios = pairedRatios(base.rounds, other.rounds, spec.key);
      if (ratios.length === 0) return '–';
      const interval = medianInterval(ratios);
      const middle = `${fmt(median(ratios), 3)}×`;
      // No interval when failed rounds left fewer than MIN_PAIRED_ROUNDS pairs.
      return interval === undefined
        ? `${middle} (no interval)`
        : `${middle} (${fmt(interval.low, 3)}–${fmt(interval.high, 3)})`;
    });
    lines.push(`| ${spec.label} | ${cells.join(' | ')} |`);
  }
  return lines;
}
