/**
 * `@lock/core`: the lock interfaces, errors and machinery that every `@lock/*` backend shares.
 * @packageDocumentation
 */
export {
  type AcquireDenied,
  type AcquireGranted,
  type AcquireRequest,
  type AcquireResult,
  type BackendLockInfo,
  type BackendSemaphoreHolder,
  type BackendSemaphoreInfo,
  type ExtendRequest,
  type LockBackend,
  MAX_PERMITS,
  type OwnerCheckedResult,
  type QueuedAcquireOptions,
  type QueuedGrant,
  type ReleaseRequest,
  RW_PERMITS,
  type SemaphoreAcquireRequest,
  type SemaphoreAcquireResult,
  type SemaphoreDenied,
  type SemaphoreGranted,
  type SemaphoreKind,
  type SemaphoreMismatch,
  type SemaphoreMode,
  type SemaphoreOwnerResult,
  type Unsubscribe,
  type VersionedRecord,
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
export { semaphoreOpsOf } from './semaphore.js';
export type { SemaphoreOps } from './semaphore-record.js';
export {
  decideSemaphore,
  describeSemaphore,
  kindOf,
  type SemaphoreCommand,
  type SemaphoreDecision,
  type SemaphoreEntry,
  type SemaphoreState,
} from './semaphore-rules.js';
export type {
  AcquireOptions,
  PermitHandle,
  ReadWriteLock,
  Semaphore,
  SemaphoreHolderInfo,
  SemaphoreInfo,
  SemaphoreOptions,
  TryAcquireOptions,
} from './semaphore-types.js';
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
