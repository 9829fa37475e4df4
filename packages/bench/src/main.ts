// `pnpm bench [suite…]`: runs every workload for every implementation of each suite, side by
// side in one run, and writes bench-results/results.{md,json} at the repository root.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Suite } from './adapter.js';
import { runInterleaved } from './interleaved.js';
import { type AdapterResult, type SuiteResult, toMarkdown } from './report.js';
import { etcdSuite } from './suites/etcd.js';
import { localSuite } from './suites/local.js';
import { memcachedSuite } from './suites/memcached.js';
import { otelSuite } from './suites/otel.js';
import { redisSuite } from './suites/redis.js';
import { contended, heldMany, uncontended } from './workloads.js';

const SUITES: Record<string, () => Promise<Suite>> = {
  local: localSuite,
  redis: redisSuite,
  memcached: memcachedSuite,
  etcd: etcdSuite,
  otel: () => otelSuite('redis'),
  'otel-local': () => otelSuite('local'),
};

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 2_000);
const HELD = Number(process.env['BENCH_HELD_LOCKS'] ?? 10_000);

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(SUITES);
const results: SuiteResult[] = [];

for (const name of names) {
  const make = SUITES[name];
  if (make === undefined)
    throw new Error(`unknown suite "${name}" (known: ${Object.keys(SUITES).join(', ')})`);
  let suite: Suite;
  try {
    suite = await make();
  } catch (error) {
    results.push({ suite: name, notes: [], results: [], skipped: (error as Error).message });
    console.log(`## ${name}: skipped (${(error as Error).message})`);
    continue;
  }
  if (suite.rounds !== undefined) {
    const { results: rounds, notes } = await runInterleaved(suite, suite.rounds, DURATION_MS);
    await Promise.all(suite.adapters.map((adapter) => adapter.close().catch(() => {})));
    await suite.teardown();
    results.push({ suite: name, notes: [...suite.notes, ...notes], results: rounds });
    continue;
  }
  const suiteResults: AdapterResult[] = [];
  for (const adapter of suite.adapters) {
    console.log(`${name} / ${adapter.name} …`);
    try {
      // Warm-up (JIT, connections, script cache) so the first column does not pay for the run's start.
      await uncontended(adapter, 10, 500);
      const sequential = await uncontended(adapter, 1, DURATION_MS);
      const parallel50 = await uncontended(adapter, 50, DURATION_MS);
      const contention = await contended(adapter, 10, DURATION_MS, 1);
      // TTL 15 s held for 6 s: ours renew at least once (every TTL/3), and the peers, which do not
      // renew, still hold every lock when releasing (an expired one makes redlock 5 retry).
      const many = await heldMany(adapter, HELD, 15_000, 6_000);
      suiteResults.push({
        adapter: adapter.name,
        sequential,
        parallel50,
        contended: contention,
        heldMany: many,
      });
    } catch (error) {
      suiteResults.push({ adapter: adapter.name, error: (error as Error).message });
    } finally {
      await adapter.close().catch(() => {});
    }
  }
  await suite.teardown();
  results.push({ suite: name, notes: suite.notes, results: suiteResults });
}

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  'duration per workload': `${DURATION_MS} ms`,
  noise: 'shared 2-core machine: expect ±10–20% between runs; compare columns of one run only',
};
const markdown = toMarkdown(meta, results);
const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'results.md'), markdown);
writeFileSync(join(out, 'results.json'), `${JSON.stringify({ meta, results }, null, 2)}\n`);
console.log(`\n${markdown}`);
console.log(`written to ${out}/results.{md,json}`);
process.exit(0);
