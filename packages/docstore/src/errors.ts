/**
 * Turns what a driver reports into core's `BackendError`, keeping the original as `cause`.
 * @module
 */
import { BackendError, isLockError } from '@lock/core';

/**
 * A `BackendError` for a failed `operation` on lock `key` in `store`, with `error` as its cause.
 * Lock errors (closed, invalid argument) pass through unchanged. The message carries the
 * driver's message and code, never a connection string or credentials.
 */
export function toBackendError(
  error: unknown,
  store: string,
  operation: string,
  key?: string,
): Error {
  if (isLockError(error)) return error;
  const subject = key === undefined ? '' : ` of lock "${key}"`;
  return new BackendError(`${store} ${operation}${subject} failed: ${describe(error)}`, {
    cause: error,
    key,
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code ?? (error as { name?: unknown }).name;
    const text = error.message || error.name || 'error without a message';
    return (typeof code === 'string' || typeof code === 'number') && !text.includes(String(code))
      ? `${text} (${code})`
      : text;
  }
  if (typeof error === 'string' && error !== '') return error;
  return `the driver reported ${error === undefined ? 'an undefined error' : typeof error} without a message`;
}
