/**
 * `@lock/testkit/servers`: the real-server harness and helpers, without jest, for the demo and
 * the benchmarks as well as tests.
 * @packageDocumentation
 */

export { makeTestCertificates, type TestCertificates } from './certificates.js';
export { type ChildScript, startChildScript } from './child-script.js';
export {
  dynamodbLocalContainer,
  etcdContainer,
  firestoreEmulatorContainer,
  memcachedContainer,
  mongodbContainer,
  redisContainer,
} from './container-images.js';
export { CONTAINER_LABEL, CONTAINER_SCRATCH } from './container-server.js';
export { type ContainerSpec, imageOf } from './container-spec.js';
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
  canStartServer,
  freePort,
  hasCommand,
  isCI,
  type RunningServer,
  type ServerSpec,
  serverAvailable,
  startServer,
} from './harness.js';
export {
  type ContainerNetwork,
  chooseProvider,
  describeChoice,
  type ProviderChoice,
  type ServerProvider,
} from './provider-choice.js';
export { randomKey, randomNamespace, sleep } from './random.js';
export { memcachedAnswers, redisAnswers } from './server-checks.js';
export {
  type ExtraArgs,
  etcdServerSpec,
  memcachedServerSpec,
  redisServerSpec,
  tmpfsRoot,
} from './server-specs.js';
export { percentile } from './stats.js';
