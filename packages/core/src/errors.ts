/**
 * Every error this library throws is a {@link LockError} with a stable {@link LockErrorCode}.
 * Match on `code` (or use {@link isLockError}), never on message text.
 * @module
 */

/** The stable machine-readable kind of a {@link LockError}. */
export type LockErrorCode =
  | 'NOT_ACQUIRED'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'LOST'
  | 'CLOSED'
  | 'UNSUPPORTED_SERVICE'
  | 'INVALID_CONNECTION_STRING'
  | 'INVALID_ARGUMENT'
  | 'BACKEND';

/**
 * Brand shared by every copy of this package, so {@link isLockError} works even when
 * two versions of `@lock/core` end up in one process and `instanceof` fails.
 */
const BRAND = Symbol.for('@lock/core.LockError');

/** Longest part of a key shown in a message; the whole key stays in the error's `key` field. */
const KEY_SHOWN = 80;

/**
 * A key quoted for a message, cut to a readable length: `"first 80 characters…" (1048576
 * characters)`. The error's `key` field keeps the whole key.
 */
export function quoteKey(key: string): string {
  if (key.length <= KEY_SHOWN) return `"${key}"`;
  return `"${key.slice(0, KEY_SHOWN)}…" (${key.length} characters)`;
}

/** Base class of every error thrown by `@lock/core` and its backends. */
export class LockError extends Error {
  /** The stable kind of this error. */
  readonly code: LockErrorCode;
  /** The key the error is about, when there is one. */
  readonly key: string | undefined;

  constructor(
    code: LockErrorCode,
    message: string,
    options: { cause?: unknown; key?: string | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key;
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * The lock is held by someone else. Carries the holder's public identity and the time it
 * still has, when the backend reports them. The holder's secret owner token is never exposed.
 */
export class NotAcquiredError extends LockError {
  /** Public identity of the current holder (the `identity` option of its locker), if known. */
  readonly holder: string | undefined;
  /** Milliseconds the current holder still has, if known. */
  readonly remainingMs: number | undefined;

  constructor(key: string, holder?: string, remainingMs?: number) {
    super(
      'NOT_ACQUIRED',
      `lock ${quoteKey(key)} is held by ${holder === undefined ? 'another owner' : `"${holder}"`}${
        remainingMs === undefined ? '' : ` for ${Math.round(remainingMs)} ms more`
      }`,
      { key },
    );
    this.holder = holder;
    this.remainingMs = remainingMs;
  }
}

/** The lock does not exist (never taken, expired, or already released). */
export class NotFoundError extends LockError {
  constructor(key: string) {
    super('NOT_FOUND', `lock ${quoteKey(key)} is not held by anyone`, { key });
  }
}

/** The lock is held, but by another owner: this caller may not extend or release it. */
export class ForbiddenError extends LockError {
  constructor(key: string) {
    super('FORBIDDEN', `lock ${quoteKey(key)} is held by another owner`, { key });
  }
}

/** A blocking acquire did not succeed within its `timeout`. */
export class LockTimeoutError extends LockError {
  /** The timeout that ran out, in milliseconds. */
  readonly timeoutMs: number;
  constructor(key: string, timeoutMs: number, cause?: unknown) {
    super('TIMEOUT', `lock ${quoteKey(key)} was not acquired within ${timeoutMs} ms`, {
      key,
      cause,
    });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's `AbortSignal` stopped the operation; `cause` is the signal's reason. */
export class LockAbortedError extends LockError {
  constructor(key: string | undefined, cause?: unknown) {
    super(
      'ABORTED',
      key === undefined ? 'operation aborted' : `waiting for lock ${quoteKey(key)} was aborted`,
      {
        key,
        cause,
      },
    );
  }
}

/** Why a held lock was lost. */
export type LostReason = 'expired' | 'refused' | 'released-elsewhere' | 'session-closed';

/**
 * A lock this process held is no longer held: its validity ran out by the local clock before a
 * renewal was confirmed, or the backend refused a renewal. Work done under it must stop.
 */
export class LockLostError extends LockError {
  /** What made the lock count as lost. */
  readonly reason: LostReason;
  constructor(key: string, reason: LostReason, cause?: unknown) {
    super('LOST', `lock ${quoteKey(key)} was lost (${reason})`, { key, cause });
    this.reason = reason;
  }
}

/** The locker, session or backend was closed. */
export class LockClosedError extends LockError {
  constructor(what = 'locker') {
    super('CLOSED', `the ${what} is closed`);
  }
}

/** `connect()` was given a URI scheme no backend serves, or whose package is not installed. */
export class UnsupportedServiceError extends LockError {
  /** The scheme that was asked for, without the colon. */
  readonly scheme: string;
  /** The npm package that serves this scheme, when one does. */
  readonly packageName: string | undefined;
  constructor(scheme: string, packageName?: string, cause?: unknown) {
    super(
      'UNSUPPORTED_SERVICE',
      packageName === undefined
        ? `no lock backend serves the "${scheme}:" scheme`
        : `the "${scheme}:" scheme needs the package ${packageName}: run \`npm i ${packageName}\``,
      { cause },
    );
    this.scheme = scheme;
    this.packageName = packageName;
  }
}

/** A connection string could not be parsed. Any password in it is masked in the message. */
export class InvalidConnectionStringError extends LockError {
  constructor(uri: string, rule: string, cause?: unknown) {
    super('INVALID_CONNECTION_STRING', `invalid connection string "${maskSecrets(uri)}": ${rule}`, {
      cause,
    });
  }
}

/** An argument broke a rule; the message names the argument, echoes its value and type, and says the rule. */
export class InvalidArgumentError extends LockError {
  /** The name of the offending argument or option. */
  readonly argument: string;
  constructor(argument: string, value: unknown, rule: string) {
    super('INVALID_ARGUMENT', `${argument} ${rule}, got ${describeValue(value)}`);
    this.argument = argument;
  }
}

/** The backend failed (down, timed out, refused a command); the driver's error is `cause`. */
export class BackendError extends LockError {
  constructor(message: string, options: { cause?: unknown; key?: string | undefined } = {}) {
    super('BACKEND', message, options);
  }
}

/** The error class behind each {@link LockErrorCode}, for narrowing in {@link isLockError}. */
export interface LockErrorByCode {
  NOT_ACQUIRED: NotAcquiredError;
  NOT_FOUND: NotFoundError;
  FORBIDDEN: ForbiddenError;
  TIMEOUT: LockTimeoutError;
  ABORTED: LockAbortedError;
  LOST: LockLostError;
  CLOSED: LockClosedError;
  UNSUPPORTED_SERVICE: UnsupportedServiceError;
  INVALID_CONNECTION_STRING: InvalidConnectionStringError;
  INVALID_ARGUMENT: InvalidArgumentError;
  BACKEND: BackendError;
}

/**
 * True when `error` is a {@link LockError} (from any copy of this package), and, when `code`
 * is given, of that kind; narrows to that kind's class.
 * @example
 * ```ts
 * try { await locker.tryLock('jobs') } catch (e) {
 *   if (isLockError(e, 'NOT_ACQUIRED')) console.log(`held by ${e.holder}`);
 *   else throw e;
 * }
 * ```
 */
export function isLockError(error: unknown): error is LockError;
export function isLockError<C extends LockErrorCode>(
  error: unknown,
  code: C,
): error is LockErrorByCode[C];
export function isLockError(error: unknown, code?: LockErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (!(error as Record<symbol, unknown>)[BRAND]) return false;
  return code === undefined || (error as LockError).code === code;
}

/** Masks the password part of `scheme://user:password@host` so errors never carry it. */
export function maskSecrets(uri: string): string {
  return uri.replace(/(\/\/[^/@:]*:)[^/@]*@/, '$1***@').replace(/(password=)[^&]*/gi, '$1***');
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= KEY_SHOWN) return `${JSON.stringify(value)} (string)`;
    return `${JSON.stringify(value.slice(0, KEY_SHOWN))}… (string of ${value.length} characters)`;
  }
  if (typeof value === 'bigint') return `${value}n (bigint)`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `an ${Array.isArray(value) ? 'array' : 'object'}`;
  if (typeof value === 'function') return 'a function';
  return `${String(value)} (${typeof value})`;
}
