/**
 * A mistake on the command line: a bad flag, duration, key or missing argument. `lock` prints
 * its message on one line and exits with code 2.
 */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}
