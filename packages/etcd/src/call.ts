import { BackendError, isLockError, maskSecrets, quoteKey } from '@lock/core';

/** No reply from etcd within the deadline this package set (the driver's own never fired). */
export class EtcdDeadlineError extends Error {
  constructor(operation: string, ms: number) {
    super(`no reply to ${operation} within ${ms} ms`);
    this.name = 'EtcdDeadlineError';
  }
}

/**
 * Runs one etcd call under a deadline kept by our own timer, because neither a gRPC deadline
 * nor the driver's retries reliably end a call while a connection is being dialled or an auth
 * token fetched. Driver errors become `BackendError`s with the driver's error as `cause`.
 */
export async function withDeadline<T>(
  operation: string,
  ms: number,
  run: () => Promise<T>,
  key?: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EtcdDeadlineError(operation, ms)), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([run(), expired]);
  } catch (error) {
    throw toBackendError(operation, error, key);
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps a `LockError` as is; wraps anything else in a `BackendError` that names the call. */
export function toBackendError(operation: string, error: unknown, key?: string): Error {
  if (isLockError(error)) return error;
  const what = key === undefined ? '' : ` of lock ${quoteKey(key)}`;
  return new BackendError(`etcd ${operation}${what} failed: ${describe(error)}`, {
    cause: error,
    key,
  });
}

/** The error's class and the first line of its message, with anything password-like masked. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = error.name === 'Error' ? error.constructor.name : error.name;
  const line = (error.message ?? '').split('\n')[0] ?? '';
  // Drop labels the driver leaves with nothing after them ("… Resolution note: ").
  const trimmed = line.replace(/(\s*[A-Z][A-Za-z ]*:\s*)+$/, '');
  return maskSecrets(`${kind}: ${trimmed}`).slice(0, 300);
}
