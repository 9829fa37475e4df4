import { createLocker } from '@lock/core';
import { EtcdBackend } from './src/index.js';

const N = Number(process.argv[2] ?? 100);
const prefix = `s${Date.now()}/`;
const lockers = Array.from({ length: 4 }, () =>
  createLocker(new EtcdBackend({ hosts: 'http://127.0.0.1:23790', prefix }), {
    ttl: 10_000,
    onError: (e) => console.log('onError', e),
  }),
);
let counter = 0;
const t0 = performance.now();
let last = t0;
await Promise.all(
  Array.from({ length: N }, (_, i) =>
    lockers[i % 4]!.withLock(
      'k',
      async () => {
        const now = performance.now();
        if (now - last > 200) console.log('gap', Math.round(now - last), 'at', counter);
        last = now;
        counter++;
        await new Promise((r) => setImmediate(r));
        last = performance.now();
      },
      { timeout: 120_000 },
    ),
  ),
);
console.log('done', counter, Math.round(performance.now() - t0), 'ms');
await Promise.all(lockers.map((l) => l.close()));
