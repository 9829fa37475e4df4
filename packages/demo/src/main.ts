// `pnpm demo [uri] [contenders]`: the seed scenario on the embedded default (`local:`) or on
// the backend a connection string names, e.g. `pnpm demo redis://127.0.0.1:6379`.
import { randomBytes } from 'node:crypto';
import { connect, maskSecrets } from '@lock/core';
import { runSeedScenario } from './seed-scenario.js';

const uri = process.argv[2] ?? 'local:';
const contenders = Number(process.argv[3] ?? 1000);
const LOCKERS = 10;

const root = await connect(uri, { ttl: 10_000 });
const lockers = [
  root,
  ...Array.from({ length: LOCKERS - 1 }, (_, i) => root.session({ identity: `worker-${i + 1}` })),
];
try {
  const key = `demo-${randomBytes(4).toString('hex')}`;
  console.log(
    `backend ${root.backend.name} (${maskSecrets(uri)}): ${contenders} contenders on one key, ${LOCKERS} lockers`,
  );
  const result = await runSeedScenario(lockers, contenders, key);
  const ms = (n: number) => `${n.toFixed(3)} ms`;
  console.log(`final counter:        ${result.counter} (expected ${contenders})`);
  console.log(
    `mutual exclusion:     ${result.exclusive ? 'held (fences grew, no overlap)' : 'VIOLATED'}`,
  );
  console.log(`acquisitions/second:  ${Math.round(result.acquisitionsPerSecond)}`);
  console.log(
    `handoff release→next acquire: p50 ${ms(result.handoff.p50)}, p90 ${ms(result.handoff.p90)}, p99 ${ms(result.handoff.p99)}, max ${ms(result.handoff.max)}`,
  );
  if (result.counter !== contenders || !result.exclusive) process.exitCode = 1;
} finally {
  await root.close();
}
