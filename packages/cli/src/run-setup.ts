import type { Locker } from '@lock/core';
import { type CommandLine, commandOf, targetOf } from './command-line.js';
import type { CliContext } from './context.js';
import { booleanFlag, graceFlag, identityFlag, ttlFlag } from './flags.js';
import { reportBackgroundError, reportRisk } from './lock-events.js';
import { openLocker } from './open-locker.js';
import type { CommandSpec } from './run-command.js';

/** What `exec` and `elect` share: where the lock is, the command to run, and how. */
export interface RunSetup {
  readonly key: string;
  /** The lock's TTL in milliseconds (`--ttl`). */
  readonly ttl: number;
  readonly spec: CommandSpec;
  /** Opens the backend with `--ttl` and `--identity`, reporting risk and background errors. */
  open(): Promise<Locker>;
}

/**
 * Reads the arguments `exec` and `elect` share (`<uri> <key>`, `--ttl`, `--grace`,
 * `--identity`, `--foreground`, the command after `--`) and remembers the URI's password so no
 * message shows it.
 * @throws {UsageError} for any of them that is wrong.
 */
export function runSetupOf(line: CommandLine, context: CliContext): RunSetup {
  const { uri, key } = targetOf(line, context.env, true);
  const [file, ...args] = commandOf(line);
  const ttl = ttlFlag(line);
  const spec: CommandSpec = {
    file,
    args,
    foreground: booleanFlag(line, 'foreground'),
    graceMs: graceFlag(line),
  };
  const identity = identityFlag(line);
  const { reporter } = context;
  reporter.hideSecretsOf(uri);
  return {
    key,
    ttl,
    spec,
    open: () =>
      openLocker(uri, {
        ttl,
        identity,
        onRisk: (event) => reportRisk(reporter, event),
        onError: (error) => reportBackgroundError(reporter, error),
      }),
  };
}
