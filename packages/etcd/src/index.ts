/**
 * `@lock/etcd`: locks for `@lock/core` on etcd v3 (the `etcd3` driver): lease sessions, a fair
 * FIFO queue, create-revision fencing, watch wake-ups.
 * @packageDocumentation
 */
export { EtcdBackend, type EtcdBackendStats } from './etcd-backend.js';
export { openBackend } from './open-backend.js';
export {
  ETCD_OPTION_NAMES,
  type EtcdBackendOptions,
  type EtcdTlsOptions,
} from './options.js';
export { parseEtcdUri, URI_PARAMETERS } from './uri.js';
