/**
 * Turns what memjs reports into core's `BackendError`, keeping the original as `cause`.
 * @module
 */
import { BackendError, isLockError } from '@lock/core';

/**
 * A `BackendError` for a failed `operation` on lock `key`, with `error` as its cause. memjs
 * sometimes reports a failure with no message (a SASL rejection arrives as a bare string, and
 * memjs then logs `error.message` as undefined): the message still says what happened.
 * Lock errors (closed, invalid argument) pass through unchanged.
 */
export function toBackendError(error: unknown, operation: string, key?: string): Error {
  if (isLockError(error)) return error;
  const subject = key === undefined ? '' : ` of lock "${key}"`;
  return new BackendError(`memcached ${operation}${subject} failed: ${describe(error)}`, {
    cause: error,
    key,
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message || error.name || 'error without a message';
    return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
  }
  if (typeof error === 'string' && error !== '') return error;
  return `the driver reported ${error === undefined ? 'an undefined error' : typeof error} without a message`;
}
