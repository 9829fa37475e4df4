/**
 * Options every adapter shares, and their checks.
 * @module
 */
import { InvalidArgumentError } from '@lock/core';

/** Options of the lease algorithm, the same for every store. */
export interface LeaseOptions {
  /**
   * Prefix of every record id this backend writes, so that several applications (or tests)
   * can share one collection or table.
   * @default ""
   */
  readonly keyPrefix?: string | undefined;
  /**
   * Longest time one store request may take, in ms, kept by this package's own timer (the
   * drivers' own timeouts are set too, but are not trusted alone). A request that runs out
   * fails the call with a `BackendError`; its outcome is unknown, and the next call finds out.
   * @default 5000
   */
  readonly operationTimeout?: number | undefined;
}

/** The option names of {@link LeaseOptions}. */
export const LEASE_OPTION_NAMES = ['keyPrefix', 'operationTimeout'] as const;

/** Default of {@link LeaseOptions.operationTimeout}. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 5_000;

/** Throws {@link InvalidArgumentError} for a bad {@link LeaseOptions} value, named under `name`. */
export function checkLeaseOptions(options: LeaseOptions, name: string): void {
  if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') {
    throw new InvalidArgumentError(`${name}.keyPrefix`, options.keyPrefix, 'must be a string');
  }
  const timeout = options.operationTimeout;
  if (
    timeout !== undefined &&
    !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)
  ) {
    throw new InvalidArgumentError(
      `${name}.operationTimeout`,
      timeout,
      'must be a finite number of ms > 0',
    );
  }
}

/** Throws unless `value` is a finite number of ms > 0. */
export function checkMilliseconds(value: unknown, name: string): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new InvalidArgumentError(name, value, 'must be a finite number of ms > 0');
  }
}
