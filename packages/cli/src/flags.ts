import { hostname } from 'node:os';
import type { CommandLine, FlagSpec } from './command-line.js';
import { parseDuration } from './duration.js';
import { UsageError } from './usage-error.js';

/** TTL of the lock when `--ttl` is not given, as `@lock/core`'s default. */
export const DEFAULT_TTL_MS = 30_000;
/** Shortest `--ttl`: the lock is renewed every third of it, and loss is judged by it. */
export const MIN_TTL_MS = 100;
/** Time between SIGTERM and SIGKILL when `--grace` is not given. */
export const DEFAULT_GRACE_MS = 10_000;
const MAX_IDENTITY_LENGTH = 200;

/** `--help`, accepted by every command. */
export const HELP_FLAG: FlagSpec = { help: { type: 'boolean', short: 'h' } };

/** Flags of the commands that run a command under a lock (`exec`, `elect`). */
export const RUN_FLAGS: FlagSpec = {
  ...HELP_FLAG,
  ttl: { type: 'string' },
  grace: { type: 'string' },
  identity: { type: 'string' },
  foreground: { type: 'boolean' },
};

/** `--ttl`, in milliseconds. */
export function ttlFlag(line: CommandLine): number {
  const text = stringFlag(line, 'ttl');
  return text === undefined ? DEFAULT_TTL_MS : parseDuration('--ttl', text, { minMs: MIN_TTL_MS });
}

/** `--grace`, in milliseconds (0: SIGKILL right after SIGTERM). */
export function graceFlag(line: CommandLine): number {
  const text = stringFlag(line, 'grace');
  return text === undefined ? DEFAULT_GRACE_MS : parseDuration('--grace', text, { minMs: 0 });
}

/**
 * `--identity`, or `<host>:<pid>` of this process: the public name others see as the holder.
 * @throws {UsageError} when empty, too long or containing whitespace.
 */
export function identityFlag(line: CommandLine): string {
  const given = stringFlag(line, 'identity');
  if (given === undefined) return `${hostname() || 'lock'}:${process.pid}`;
  if (given === '' || given.length > MAX_IDENTITY_LENGTH || /\s/.test(given)) {
    throw new UsageError(
      `--identity ${JSON.stringify(given)} must be 1 to ${MAX_IDENTITY_LENGTH} characters without whitespace`,
    );
  }
  return given;
}

/** A string flag's value, if given. */
export function stringFlag(line: CommandLine, name: string): string | undefined {
  const value = line.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether a boolean flag was given. */
export function booleanFlag(line: CommandLine, name: string): boolean {
  return line.values[name] === true;
}
