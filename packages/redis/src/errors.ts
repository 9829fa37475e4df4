import { BackendError, maskSecrets, quoteKey } from '@lock/core';
import { ErrorReply } from 'redis';

/**
 * Redis refused a write because it is out of memory (`maxmemory` reached under `noeviction`).
 * Locks cannot be taken or renewed until memory is freed; the driver's error is `cause`.
 */
export class RedisOutOfMemoryError extends BackendError {
  constructor(operation: string, key: string | undefined, cause: unknown) {
    super(
      `redis is out of memory (maxmemory reached) and refused to ${operation}${
        key === undefined ? '' : ` lock ${quoteKey(key)}`
      }: free memory or raise maxmemory`,
      { cause, key },
    );
  }
}

/**
 * True when `error` is a Redis `OOM` reply. Redis gives no code other than the reply's first
 * word (its protocol-level error code), so that word is what we look at.
 */
export function isOutOfMemoryReply(error: unknown): boolean {
  return (
    error instanceof ErrorReply &&
    (/^OOM\b/.test(error.message) || error.message.includes('OOM command not allowed'))
  );
}

/**
 * Wraps a driver or server error as core's `BackendError` (or {@link RedisOutOfMemoryError}),
 * keeping it as `cause`. Errors that already are `BackendError`s pass through unchanged.
 */
export function toBackendError(error: unknown, operation: string, key?: string): BackendError {
  if (error instanceof BackendError) return error;
  if (isOutOfMemoryReply(error)) return new RedisOutOfMemoryError(operation, key, error);
  const detail =
    error instanceof Error ? `${error.name}: ${maskSecrets(error.message)}` : 'unknown error';
  return new BackendError(
    `redis ${operation}${key === undefined ? '' : ` of lock ${quoteKey(key)}`} failed (${detail})`,
    { cause: error, key },
  );
}
