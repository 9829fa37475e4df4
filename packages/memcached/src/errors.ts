/**
 * Turns what memjs reports into core's `BackendError`, keeping the original as `cause`.
 * @module
 */
import { BackendError, isLockError, quoteKey } from '@lock/core';

/**
 * A request failed with its connection (a reset, a timeout, a failed login, a reply that came
 * on the wrong connection): its outcome is unknown. `cause` is what memjs reported. Only such
 * failures may be retried, and only for requests that are safe to send again (`retry.ts`).
 */
export class ConnectionFailure extends Error {
  constructor(driverError: unknown) {
    super(describe(driverError), { cause: driverError });
    this.name = 'ConnectionFailure';
  }
}

/** A request got no reply within `operationTimeout`, this package's own deadline. Not retried. */
export class NoReplyError extends Error {
  constructor(timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms (operationTimeout)`);
    this.name = 'NoReplyError';
  }
}

/**
 * A `BackendError` for a failed `operation` on lock `key`, with the driver's error as its cause.
 * memjs sometimes reports a failure with no message (a SASL rejection arrives as a bare string,
 * and memjs then logs `error.message` as undefined): the message still says what happened.
 * Lock errors (closed, invalid argument) pass through unchanged.
 */
export function toBackendError(error: unknown, operation: string, key?: string): Error {
  if (isLockError(error)) return error;
  const reported = error instanceof ConnectionFailure ? error.cause : error;
  const subject = key === undefined ? '' : ` of lock ${quoteKey(key)}`;
  return new BackendError(`memcached ${operation}${subject} failed: ${describe(reported)}`, {
    cause: reported,
    key,
  });
}

function describe(error: unknown): string {
  // Not `instanceof Error`: Node's own errors come from another realm under test runners.
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message, name, code } = error as { message?: unknown; name?: unknown; code?: unknown };
    const text =
      (typeof message === 'string' && message) ||
      (typeof name === 'string' && name) ||
      'error without a message';
    return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
  }
  if (typeof error === 'string' && error !== '') return error;
  return `the driver reported ${error === undefined ? 'an undefined error' : typeof error} without a message`;
}
