/**
 * `@lock/local`: in-process locks with FIFO waiting, TTL expiry and fencing. The embedded default.
 * @packageDocumentation
 */
export {
  LocalBackend,
  type LocalBackendOptions,
  namedStore,
  openBackend,
} from './local-backend.js';
export { LocalStore, type Waiter } from './local-store.js';
