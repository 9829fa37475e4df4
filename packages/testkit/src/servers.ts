/**
 * `@lock/testkit/servers`: the real-server harness and helpers, without jest, for the demo and
 * the benchmarks as well as tests.
 * @packageDocumentation
 */

export { makeTestCertificates, type TestCertificates } from './certificates.js';
export {
  cloudSdkRoot,
  dynaliteServerSpec,
  ferretdbBinary,
  ferretdbServerSpec,
  firestoreEmulatorJar,
  firestoreServerSpec,
} from './docstore-specs.js';
export { type FaultMode, FaultProxy, type FaultProxyStats } from './fault-proxy.js';
export { type Fault, FaultyBackend } from './faulty-backend.js';
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
