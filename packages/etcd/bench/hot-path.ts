/**
 * The hot path's costs, counted by etcd itself: gRPC messages the server received per
 * uncontended `tryLock` + `release` pair (from its `/metrics`), pairs per second, and the wait
 * of 10 independent lockers (a backend and a connection each) taking turns on one key through
 * `lock()`, with etcd's messages and this process's CPU per contended acquisition. With a second argument, a copy of this package's `src` folder (say, an older
 * commit's) is measured too, in rounds interleaved with the current code. Run from the package:
 *
 *     npx tsx --conditions=source bench/hot-path.ts http://127.0.0.1:2379 [path/to/other/src]
 *
 * Every run writes under a fresh random prefix and deletes nothing else.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLocker, type LockBackend, type Locker } from '@lock/core';
import { EtcdBackend } from '../src/index.js';
import { contend } from './etcd-bench.js';

const PHASE_MS = 1_500;
const ROUNDS = 3;

interface Variant {
  readonly name: string;
  readonly open: (hosts: string, prefix: string) => LockBackend;
}

/** gRPC messages etcd received so far (every service; keepalive and watch stream messages too). */
export async function messagesReceived(hosts: string): Promise<number> {
  const metrics = await (await fetch(`${hosts}/metrics`)).text();
  let total = 0;
  for (const [, value] of metrics.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm))
    total += Number(value);
  return total;
}

async function measure(variant: Variant, hosts: string) {
  const prefix = `hot-${randomBytes(4).toString('hex')}/`;
  const open = (identity: string) =>
    createLocker(variant.open(hosts, prefix), { ttl: 10_000, identity, onError: () => {} });
  const serial = open('serial');
  await (await serial.tryLock('warm-up')).release();
  const before = await messagesReceived(hosts);
  let pairs = 0;
  const started = performance.now();
  while (performance.now() - started < PHASE_MS) {
    await (await serial.tryLock(`serial-${pairs % 16}`)).release();
    pairs += 1;
  }
  const elapsed = performance.now() - started;
  const messages = (await messagesReceived(hosts)) - before;
  await serial.close();
  const workers: Locker[] = Array.from({ length: 10 }, (_, i) => open(`worker-${i}`));
  const contendedFrom = await messagesReceived(hosts);
  const cpuFrom = process.cpuUsage();
  const contended = await contend(PHASE_MS, 10, async (worker) => {
    const lock = await (workers[worker] as Locker).lock('contended', { timeout: 10_000 });
    return () => lock.release();
  });
  const cpu = process.cpuUsage(cpuFrom);
  const acquisitions = (contended.acquisitionsPerSec * PHASE_MS) / 1000;
  const perAcquisition = ((await messagesReceived(hosts)) - contendedFrom) / acquisitions;
  const cpuPerAcquisitionUs = (cpu.user + cpu.system) / acquisitions;
  await Promise.all(workers.map((w) => w.close()));
  return {
    perPair: messages / pairs,
    pairsPerSec: (pairs * 1000) / elapsed,
    contended,
    perAcquisition,
    cpuPerAcquisitionUs,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(hosts: string, otherSrc: string | undefined): Promise<void> {
  const variants: Variant[] = [
    { name: 'current', open: (h, prefix) => new EtcdBackend({ hosts: h, prefix }) },
  ];
  if (otherSrc !== undefined) {
    const other = (await import(pathToFileURL(resolve(otherSrc, 'index.ts')).href)) as {
      EtcdBackend: typeof EtcdBackend;
    };
    variants.unshift({
      name: otherSrc,
      open: (h, prefix) => new other.EtcdBackend({ hosts: h, prefix }),
    });
  }
  const results = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const result = await measure(variant, hosts);
      results.set(variant.name, [...(results.get(variant.name) ?? []), result]);
    }
  }
  for (const [name, runs] of results) {
    const show = (pick: (r: (typeof runs)[number]) => number, digits = 1) =>
      `${median(runs.map(pick)).toFixed(digits)} (${runs.map((r) => pick(r).toFixed(digits)).join(', ')})`;
    console.log(
      `${name}: gRPC messages per pair ${show((r) => r.perPair, 2)}; pairs/s ${show((r) => r.pairsPerSec, 0)}; ` +
        `contended wait p50 ${show((r) => r.contended.waitP50Ms)} ms, p99 ${show((r) => r.contended.waitP99Ms)} ms, ` +
        `acq/s ${show((r) => r.contended.acquisitionsPerSec, 0)}, gRPC messages per acquisition ${show((r) => r.perAcquisition, 2)}, ` +
        `client CPU per acquisition (10 lockers, one process) ${show((r) => r.cpuPerAcquisitionUs, 0)} µs`,
    );
  }
}

main(process.argv[2] ?? 'http://127.0.0.1:2379', process.argv[3]).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
