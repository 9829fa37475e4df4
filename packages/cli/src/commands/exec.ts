import { isLockError, type Locker, type LockHandle } from '@lock/core';
import { type CommandProcess, exitCodeOf, startFailure } from '../command-process.js';
import type { CliContext, CommandRun } from '../context.js';
import { formatDuration, parseDuration } from '../duration.js';
import { EXIT, signalExitCode } from '../exit-codes.js';
import { booleanFlag, RUN_FLAGS, stringFlag } from '../flags.js';
import { closeLocker } from '../open-locker.js';
import { describeError } from '../reporter.js';
import { runCommand } from '../run-command.js';
import { runSetupOf } from '../run-setup.js';
import { catchSignals, followJobControl } from '../signals.js';
import { UsageError } from '../usage-error.js';
import { parseOrHelp } from './parse.js';

const EXEC_FLAGS = {
  ...RUN_FLAGS,
  wait: { type: 'string' },
  'no-wait': { type: 'boolean' },
} as const;

/**
 * `lock exec <uri> <key> [options] -- <command> [args…]`: runs the command while holding the
 * lock, stops it if the lock is lost, releases the lock when it exits, and exits with its code.
 */
export const run: CommandRun = async (argv, context) => {
  const line = parseOrHelp('exec', argv, EXEC_FLAGS, context);
  if (line === undefined) return EXIT.ok;
  const { key, ttl, spec, open } = runSetupOf(line, context);
  const waitText = stringFlag(line, 'wait');
  const noWait = booleanFlag(line, 'no-wait');
  if (noWait && waitText !== undefined) {
    throw new UsageError('--wait and --no-wait cannot be given together');
  }
  const waitMs =
    waitText === undefined
      ? Number.POSITIVE_INFINITY
      : parseDuration('--wait', waitText, { minMs: 0 });
  const { reporter } = context;

  // Until the command runs, SIGINT/SIGTERM/SIGHUP stop the wait; from then on they go to it.
  let command: CommandProcess | undefined;
  let interruptedBy: NodeJS.Signals | undefined;
  const interrupted = new AbortController();
  const signals = catchSignals((signal) => {
    if (command !== undefined) {
      command.signal(signal);
      return;
    }
    interruptedBy ??= signal;
    interrupted.abort();
  });
  let held: LockHandle | undefined;
  const jobControl = followJobControl({
    command: () => command,
    beforeResume: () => void held?.held,
  });
  try {
    const locker = await open();
    try {
      if (interruptedBy !== undefined) return signalExitCode(interruptedBy);
      const acquired = await acquire(locker, key, noWait ? undefined : waitMs, interrupted.signal);
      if ('why' in acquired) return notAcquired(acquired, key, waitMs, interruptedBy, context);
      const lock = acquired;
      held = lock;
      if (interruptedBy !== undefined) {
        await lock.release().catch(() => {});
        return signalExitCode(interruptedBy);
      }
      if (!lock.held) {
        reporter.line(`${describeError(lock.signal.reason)}: the command was not started`);
        return EXIT.lost;
      }
      const result = await runCommand(
        spec,
        lock,
        lock.signal,
        context,
        (started) => {
          command = started;
        },
        (reason) => `lost: ${describeError(reason)}`,
      );
      if (result.outcome.kind === 'not-started') {
        reporter.line(startFailure(spec.file, result.outcome.error));
        await lock.release().catch(() => {});
        return exitCodeOf(result.outcome);
      }
      if (result.stoppedFor !== undefined || !lock.held) {
        if (result.stoppedFor === undefined) {
          // Lost by the local clock just as the command exited, before the loss timer ran.
          reporter.line(`${describeError(lock.signal.reason)}: the command had just exited`);
          await result.command.stop(spec.graceMs);
        }
        return EXIT.lost;
      }
      return await release(lock, exitCodeOf(result.outcome), ttl, context);
    } finally {
      await closeLocker(locker);
    }
  } finally {
    signals.dispose();
    jobControl.dispose();
  }
};

/** Why no lock was taken: held (with core's "held by …" message), timed out, or interrupted. */
type NotAcquired =
  | { readonly why: 'held'; readonly message: string }
  | { readonly why: 'timeout' }
  | { readonly why: 'interrupted' };

/** Takes the lock: one try with `waitMs` undefined (`--no-wait`), else waits up to `waitMs`. */
async function acquire(
  locker: Locker,
  key: string,
  waitMs: number | undefined,
  interrupted: AbortSignal,
): Promise<LockHandle | NotAcquired> {
  try {
    return waitMs === undefined
      ? await locker.tryLock(key)
      : await locker.lock(key, { timeout: waitMs, signal: interrupted });
  } catch (error) {
    if (isLockError(error, 'NOT_ACQUIRED')) return { why: 'held', message: error.message };
    if (isLockError(error, 'TIMEOUT')) return { why: 'timeout' };
    if (isLockError(error, 'ABORTED') && interrupted.aborted) return { why: 'interrupted' };
    throw error;
  }
}

/** Reports why the command does not run, and returns the exit code that says so. */
function notAcquired(
  reason: NotAcquired,
  key: string,
  waitMs: number,
  interruptedBy: NodeJS.Signals | undefined,
  context: CliContext,
): number {
  switch (reason.why) {
    case 'interrupted':
      return signalExitCode(interruptedBy ?? 'SIGINT');
    case 'timeout':
      context.reporter.line(
        `${JSON.stringify(key)} was not acquired within ${formatDuration(waitMs)}: the command was not started`,
      );
      return EXIT.timeout;
    case 'held':
      context.reporter.line(`${reason.message}: the command was not started (--no-wait)`);
      return EXIT.held;
  }
}

/**
 * Releases the lock after the command exited by itself, and returns the exit code: the
 * command's, or 125 when the lock turns out to have been taken from us while it ran.
 */
async function release(
  lock: LockHandle,
  commandCode: number,
  ttl: number,
  context: CliContext,
): Promise<number> {
  try {
    await lock.release();
    return commandCode;
  } catch (error) {
    if (isLockError(error, 'BACKEND')) {
      // It was still ours when the command finished (release checks that first): the command's
      // result stands, and the lock expires by its TTL.
      context.reporter.line(
        `${describeError(error)}; the lock expires within ${formatDuration(ttl)}`,
      );
      return commandCode;
    }
    context.reporter.line(
      `${describeError(error)}: the lock was no longer held when the command finished`,
    );
    return EXIT.lost;
  }
}
