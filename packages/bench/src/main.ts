// `pnpm bench [suite…]`: runs every workload for every implementation of each suite, side by
// side and interleaved in rounds, and writes bench-results/results.{md,json} at the repository
// root. The root script builds the packages first: the bench measures their dist, as installed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomKey } from '@lock/testkit/servers';
import type { LockAdapter, Suite } from './adapter.js';
import type { Footing } from './child-protocol.js';
import { type Column, runRounds, WORKLOADS, type Workload } from './interleaved.js';
import { BenchChild, contendInChildren, heldInChild } from './processes.js';
import { RedisBenchmarkFloor } from './redis-benchmark.js';
import { type SuiteResult, toMarkdown } from './report.js';
import { type ServerCounter, serverCounter } from './server-counters.js';
import { SERVER_OF, SUITES, suiteFactory } from './suite-registry.js';
import { sharedServerUrl } from './suites/servers.js';
import { contend, monotonicMs, summarizeContention, uncontended } from './workloads.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DURATION_MS = env('BENCH_DURATION_MS', 1_500);
const ROUNDS = env('BENCH_ROUNDS', 3);
const HELD = env('BENCH_HELD_LOCKS', 10_000);
const CONTENDERS = env('BENCH_CONTENDERS', 10);
// TTL 15 s held for 6 s: ours renew at least once (every TTL/3), and the peers, which do not
// renew, still hold every lock when releasing (an expired one makes redlock 5 retry).
const HELD_TTL_MS = 15_000;
const HOLD_MS = env('BENCH_HOLD_MS', 6_000);
const WORK_MS = 1;

assertBuiltPackages();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const only = onlyWorkloads(process.argv.slice(2));
const names = wanted.length > 0 ? wanted : Object.keys(SUITES);
for (const name of names) suiteFactory(name); // unknown names fail before anything runs
const results: SuiteResult[] = [];
const runStarted = performance.now();

for (const name of names) {
  const started = performance.now();
  let suite: Suite;
  try {
    suite = await suiteFactory(name)();
  } catch (error) {
    results.push({ suite: name, notes: [], columns: [], skipped: (error as Error).message });
    console.log(`## ${name}: skipped (${(error as Error).message})`);
    continue;
  }
  const kind = SERVER_OF[name];
  const url = kind && sharedServerUrl(kind);
  const counter: ServerCounter | undefined =
    kind && url ? await serverCounter(kind, url) : undefined;
  const uncontendedOnly = suite.rounds !== undefined;
  const children: BenchChild[] = [];
  const extraNotes: string[] = [];
  try {
    if (!uncontendedOnly && !suite.processLocal) {
      console.log(`${name}: starting ${CONTENDERS} contender processes …`);
      children.push(
        ...(await Promise.all(Array.from({ length: CONTENDERS }, () => BenchChild.start(name)))),
      );
    }
    const columns = suite.adapters.map((adapter) => adapterColumn(name, suite, adapter, children));
    if (name === 'redis' && url) {
      const floor = await RedisBenchmarkFloor.start(url);
      columns.push({ name: floor.name, uncontended: (n, ms) => floor.uncontended(n, ms) });
      extraNotes.push(
        "redis-benchmark runs SET NX PX, then EVALSHA compare-and-delete, each for half the time; its pair rate is 1 / (1/SET rate + 1/EVALSHA rate), its p50/p99 the sums of the two. Its delete finds no key (it cannot replay the SET's random keys), so it skips the DEL: 3 server commands a pair, not 4",
      );
    }
    const columnResults = await runRounds(columns, {
      rounds: suite.rounds ?? ROUNDS,
      durationMs: suite.durationMs ?? DURATION_MS,
      uncontendedOnly,
      only,
      counter,
      log: (line) => console.log(`${name}: ${line}`),
    });
    const seconds = Math.round((performance.now() - started) / 1000);
    results.push({
      suite: name,
      rounds: suite.rounds ?? ROUNDS,
      notes: [
        ...suite.notes,
        ...extraNotes,
        ...howItRan(suite, counter, uncontendedOnly, only),
        `this suite took ${seconds} s`,
      ],
      columns: columnResults,
    });
  } catch (error) {
    results.push({ suite: name, notes: [], columns: [], skipped: (error as Error).message });
  } finally {
    await Promise.all(children.map((child) => child.close()));
    await counter?.close();
    await Promise.all(suite.adapters.map((adapter) => adapter.close().catch(() => {})));
    await suite.teardown();
  }
}

/** A suite adapter as a table column: uncontended here, contended and held in child processes. */
function adapterColumn(
  suiteName: string,
  suite: Suite,
  adapter: LockAdapter,
  children: readonly BenchChild[],
): Column {
  const defaults = new Map<string, Promise<LockAdapter | undefined>>();
  // In-process locks cannot be contended for across processes: their contenders share the locker.
  const inProcess = async (footing: Footing, durationMs: number) => {
    let chosen: LockAdapter | undefined = adapter;
    if (footing === 'defaults') {
      if (!defaults.has(adapter.name))
        defaults.set(adapter.name, adapter.withDefaults?.() ?? Promise.resolve(undefined));
      chosen = await defaults.get(adapter.name);
    }
    if (chosen === undefined) return undefined;
    const key = randomKey('contended');
    const start = monotonicMs() + 10;
    const reports = await Promise.all(
      Array.from({ length: CONTENDERS }, () =>
        contend(chosen, key, start, start + durationMs, WORK_MS),
      ),
    );
    return summarizeContention(reports, durationMs);
  };
  return {
    name: adapter.name,
    renews: adapter.keepalive,
    uncontended: (inFlight, durationMs) => uncontended(adapter, inFlight, durationMs),
    contended: suite.processLocal
      ? inProcess
      : (footing, durationMs) =>
          contendInChildren(children, adapter.name, footing, durationMs, WORK_MS),
    held: () => heldInChild(suiteName, adapter.name, HELD, HELD_TTL_MS, HOLD_MS),
  };
}

/**
 * The workloads named by `--only=a,b` (of {@link WORKLOADS}), to measure one of them in a few
 * seconds; undefined (all of them) without the flag.
 */
function onlyWorkloads(args: readonly string[]): ReadonlySet<Workload> | undefined {
  const flag = args.find((a) => a.startsWith('--only='));
  if (flag === undefined) return undefined;
  const names = flag.slice('--only='.length).split(',');
  for (const name of names)
    if (!(WORKLOADS as readonly string[]).includes(name))
      throw new Error(`--only=${name}: not a workload (${WORKLOADS.join(', ')})`);
  return new Set(names as Workload[]);
}

/** Notes on how the suite's figures were taken. */
function howItRan(
  suite: Suite,
  counter: ServerCounter | undefined,
  only: boolean,
  selected: ReadonlySet<Workload> | undefined,
): string[] {
  const notes = [
    `each cell: median of ${suite.rounds ?? ROUNDS} rounds (min–max), the columns taking turns in each round; ${suite.durationMs ?? DURATION_MS} ms per run; "· 0.76×" is the ratio to the first column, "~" marks a ratio within the rounds' spread`,
  ];
  if (counter) notes.push(`server commands: ${counter.what}`);
  if (only) notes.push('uncontended workloads only (variants of one implementation)');
  else if (selected !== undefined) notes.push(`only the ${[...selected].join(', ')} workloads`);
  else {
    notes.push(
      suite.processLocal
        ? `contended: ${CONTENDERS} contenders in one process sharing the locker (in-process locks), ~${WORK_MS} ms of work each hold`
        : `contended: ${CONTENDERS} contenders, each a child process with its own locker and connection, on one key, ~${WORK_MS} ms of work each hold; "defaults" rows use each library's own retry settings ("as above" where they equal the equal-footing ones or the implementation has none)`,
      `held: ${HELD.toLocaleString('en-US')} locks (TTL ${HELD_TTL_MS / 1000} s) held ${HOLD_MS / 1000} s in a fresh process per implementation; heap per lock = settled heap (full GC until stable) while holding minus before, after a warm-up`,
    );
  }
  return notes;
}

/** Fails unless @lock/* resolve to their built dist, as users install them. */
function assertBuiltPackages(): void {
  for (const name of ['@lock/core', '@lock/redis']) {
    const resolved = import.meta.resolve(name);
    if (!resolved.includes('/dist/'))
      throw new Error(
        `${name} resolves to ${resolved}, not its built dist: run pnpm bench from the repository root (it builds first), without --conditions=source`,
      );
  }
}

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  'duration per run': `${DURATION_MS} ms`,
  'whole run': `${Math.round((performance.now() - runStarted) / 1000)} s`,
  noise: 'shared machine: compare columns of one run only, and only differences beyond the spread',
};
const markdown = toMarkdown(meta, results);
const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'results.md'), markdown);
writeFileSync(join(out, 'results.json'), `${JSON.stringify({ meta, results }, null, 2)}\n`);
console.log(`\n${markdown}`);
console.log(`written to ${out}/results.{md,json}`);
process.exit(0);
