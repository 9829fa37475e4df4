import { randomBytes } from 'node:crypto';

/** A random key, so tests never collide on a shared server. */
export function randomKey(prefix = 'k'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A random namespace (key prefix, table, database…) for one test. */
export function randomNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
