/**
 * `@lock/core`: the lock interfaces, errors and machinery that every `@lock/*` backend shares.
 * @packageDocumentation
 */
export type {
  AcquireDenied,
  AcquireGranted,
  AcquireRequest,
  AcquireResult,
  BackendLockInfo,
  ExtendRequest,
  LockBackend,
  OwnerCheckedResult,
  QueuedAcquireOptions,
  QueuedGrant,
  ReleaseRequest,
  Unsubscribe,
} from './backend.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export {
  type BackendLoader,
  type BackendModule,
  type ConnectOptions,
  connect,
  type OpenContext,
  registerBackend,
  schemeOf,
} from './connect.js';
export type { Election, ElectionOptions } from './election.js';
export {
  BackendError,
  ForbiddenError,
  InvalidArgumentError,
  InvalidConnectionStringError,
  isLockError,
  LockAbortedError,
  LockClosedError,
  LockError,
  type LockErrorByCode,
  type LockErrorCode,
  LockLostError,
  LockTimeoutError,
  type LostReason,
  maskSecrets,
  NotAcquiredError,
  NotFoundError,
  quoteKey,
  UnsupportedServiceError,
} from './errors.js';
export type {
  LockEventHandlers,
  LockEventListener,
  LockEventMap,
  LockEventName,
  LockObserver,
} from './events.js';
export type { LockCallbacks, LockHandle, RenewEvent, RiskEvent } from './lock-handle.js';
export { createLocker, Locker, type SessionOptions } from './locker.js';
export type {
  KeepaliveOptions,
  LockerOptions,
  LockInfo,
  LockOptions,
  RetryOptions,
  TryLockOptions,
} from './options.js';
export { identityOf, newOwnerToken } from './token.js';
export {
  checkKey,
  checkOptions,
  checkPositive,
  checkTtl,
  MAX_KEY_LENGTH,
  MAX_TTL_MS,
} from './validate.js';
export { raceSignal, sleep } from './wait.js';
