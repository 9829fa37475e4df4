import { InvalidArgumentError } from './errors.js';

/**
 * Longest lock key, in UTF-16 code units (JavaScript string length), the same on every backend:
 * etcd, Redis and the document stores take keys of this size as they are (at most 3 KB of
 * UTF-8), and memcached, whose keys stop at 250 bytes, stores longer ones by their digest.
 */
export const MAX_KEY_LENGTH = 1024;

/**
 * Throws unless `key` is a non-empty, well-formed string of at most {@link MAX_KEY_LENGTH}
 * code units. A lone surrogate has no UTF-8 form: backends would store it as U+FFFD, so two
 * different keys would be one lock.
 */
export function checkKey(key: unknown, name = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(name, key, 'must be a non-empty string');
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(
      name,
      key,
      `must be at most ${MAX_KEY_LENGTH} characters long (it has ${key.length})`,
    );
  }
  if (!isWellFormed(key)) {
    throw new InvalidArgumentError(
      name,
      key,
      'must be well-formed Unicode (it has a lone surrogate, which no backend can store as itself)',
    );
  }
}

/** `String.prototype.isWellFormed` (Node 20+), with a fallback for older runtimes. */
function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  if (native !== undefined) return native.call(text);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(name, value, 'must be a finite number > 0');
  }
}

/**
 * Longest TTL every backend honours, in milliseconds: 2^31 − 1 (about 24.8 days), the longest
 * a Node.js timer can wait, which keepalive and loss detection rely on.
 */
export const MAX_TTL_MS = 2_147_483_647;

/** Throws unless `value` is a TTL in milliseconds: a finite number > 0 and ≤ {@link MAX_TTL_MS}. */
export function checkTtl(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TTL_MS) {
    throw new InvalidArgumentError(
      name,
      value,
      `must be a finite number of milliseconds > 0 and ≤ ${MAX_TTL_MS} (2^31 − 1, about 24.8 days)`,
    );
  }
}

/** Throws unless `value` is a number >= 0 (Infinity allowed: "wait forever"). */
export function checkNonNegative(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(name, value, 'must be a number >= 0 (Infinity allowed)');
  }
}

/** Throws unless `value` is an `AbortSignal`. */
export function checkSignal(value: unknown, name = 'signal'): asserts value is AbortSignal {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as AbortSignal).aborted !== 'boolean' ||
    typeof (value as AbortSignal).addEventListener !== 'function'
  ) {
    throw new InvalidArgumentError(name, value, 'must be an AbortSignal');
  }
}

/** Throws unless `value` is a function. */
export function checkFunction(
  value: unknown,
  name: string,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function')
    throw new InvalidArgumentError(name, value, 'must be a function');
}

/**
 * Throws unless `options` is undefined or a plain object whose keys are all in `allowed`,
 * so a misspelt option (`tll`) is an error instead of a silent default.
 */
export function checkOptions(options: unknown, name: string, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(name, options, 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `${name}.${key}`,
        (options as Record<string, unknown>)[key],
        allowed.length === 0
          ? `is not a known option (${name} takes none)`
          : `is not a known option (known: ${allowed.join(', ')})`,
      );
    }
  }
}
