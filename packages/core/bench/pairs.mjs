// Uncontended acquire + release pairs through the Locker, one in flight, for counting the CPU
// (or, under valgrind, the instructions) core adds per pair. Runs the built packages.
//
//   node bench/pairs.mjs [--backend local|redis] [--mode trylock|lock|bench|withlock]
//                        [--pairs N] [--warmup N] [--rounds R] [--core dist/index.js,...]
//                        [--redis redis://127.0.0.1:PORT]
//
// `--mode bench` calls `lock(key, { ttl: 10_000, timeout: 10_000 })` as `pnpm bench` does.
// With several `--core` builds, rounds are interleaved and each prints its CPU µs per pair.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((part) => part.trim().split(/\s+/)),
);
const backendName = args.backend ?? 'local';
const mode = args.mode ?? 'trylock';
const pairs = Number(args.pairs ?? 10_000);
const warmup = Number(args.warmup ?? 5_000);
const rounds = Number(args.rounds ?? 1);
const cores = (args.core ?? path.join(here, '../dist/index.js')).split(',');

async function makeBackend() {
  if (backendName === 'local') {
    const { LocalBackend } = await import(path.join(here, '../../local/dist/index.js'));
    return new LocalBackend();
  }
  const require = createRequire(path.join(here, '../../redis/package.json'));
  const { openBackend } = await import(
    pathToFileURL(
      path.join(path.dirname(require.resolve('@lock/redis/package.json')), 'dist/index.js'),
    ).href
  );
  const backend = await openBackend(args.redis ?? 'redis://127.0.0.1:6379');
  await backend.connect?.();
  return backend;
}

async function run(locker, n) {
  const key = 'pair';
  if (mode === 'trylock') {
    for (let i = 0; i < n; i++) await (await locker.tryLock(key)).release();
  } else if (mode === 'lock') {
    for (let i = 0; i < n; i++) await (await locker.lock(key)).release();
  } else if (mode === 'bench') {
    for (let i = 0; i < n; i++)
      await (await locker.lock(key, { ttl: 10_000, timeout: 10_000 })).release();
  } else if (mode === 'withlock') {
    for (let i = 0; i < n; i++) await locker.withLock(key, () => i);
  } else throw new Error(`unknown mode ${mode}`);
}

const lockers = [];
for (const core of cores) {
  const { createLocker } = await import(pathToFileURL(path.resolve(core)).href);
  lockers.push(createLocker(await makeBackend(), { ttl: 10_000 }));
}
for (const locker of lockers) await run(locker, warmup);
const cpu = cores.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < lockers.length; i++) {
    const before = process.cpuUsage();
    await run(lockers[i], pairs);
    const used = process.cpuUsage(before);
    cpu[i].push((used.user + used.system) / pairs);
  }
}
if (rounds > 1 || cores.length > 1) {
  cores.forEach((core, i) => {
    const sorted = [...cpu[i]].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `${core}: ${mode} on ${backendName}: CPU µs/pair median ${median.toFixed(2)} (min ${sorted[0].toFixed(2)}, max ${sorted.at(-1).toFixed(2)}, ${rounds} rounds of ${pairs})`,
    );
  });
}
for (const locker of lockers) await locker.close();
