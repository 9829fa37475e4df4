/**
 * `@lock/testkit` (private): the conformance suite every backend runs, the real-server harness,
 * and small test helpers.
 * @packageDocumentation
 */

export { makeTestCertificates, type TestCertificates } from './certificates.js';
export { runConformanceSuite } from './conformance.js';
export type { Capabilities, ConformanceTarget } from './conformance-target.js';
export { FaultyBackend } from './faulty-backend.js';
export { freezeProcess } from './freeze.js';
export {
  canConnect,
  freePort,
  hasCommand,
  isCI,
  type RunningServer,
  type ServerSpec,
  serverAvailable,
  startServer,
} from './harness.js';
export { randomKey, randomNamespace, sleep } from './random.js';
export {
  type ExtraArgs,
  etcdServerSpec,
  memcachedServerSpec,
  redisServerSpec,
  tmpfsRoot,
} from './server-specs.js';
export { percentile } from './stats.js';
