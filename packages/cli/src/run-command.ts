import type { LockHandle } from '@lock/core';
import { type CommandOutcome, CommandProcess } from './command-process.js';
import type { CliContext } from './context.js';
import { formatDuration } from './duration.js';

/** The command to run and how. */
export interface CommandSpec {
  readonly file: string;
  readonly args: readonly string[];
  /** See {@link CommandOptions.foreground}. */
  readonly foreground: boolean;
  /** Time between SIGTERM and SIGKILL when the command has to be stopped. */
  readonly graceMs: number;
}

/** How a command run under a lock ended. */
export interface CommandRunResult {
  readonly outcome: CommandOutcome;
  /** The process, for a last stop after the fact. */
  readonly command: CommandProcess;
  /** Why `lock` stopped the command (`stop`'s reason), or `undefined` if it was not stopped. */
  readonly stoppedFor: unknown;
}

/**
 * The command's environment: `lock`'s own, plus `LOCK_KEY`, `LOCK_IDENTITY` and `LOCK_FENCE`.
 * Never the owner token: that would let the command (or anything it logs to) release the lock.
 */
export function commandEnv(env: NodeJS.ProcessEnv, lock: LockHandle): NodeJS.ProcessEnv {
  return {
    ...env,
    LOCK_KEY: lock.key,
    LOCK_IDENTITY: lock.identity,
    LOCK_FENCE: String(lock.fence),
  };
}

/**
 * Runs `spec` while `lock` is held. When `stop` aborts (the lock or leadership is lost), the
 * command is stopped at once: SIGTERM, then SIGKILL after the grace period, and `lock` waits
 * for what it started to go. Resolves once the command has exited.
 * @param onStart called with the process as soon as it is started, to forward signals to it.
 * @param describeStop the first words of the line reported when `stop` aborts.
 */
export async function runCommand(
  spec: CommandSpec,
  lock: LockHandle,
  stop: AbortSignal,
  context: CliContext,
  onStart: (command: CommandProcess) => void,
  describeStop: (reason: unknown) => string,
): Promise<CommandRunResult> {
  const command = new CommandProcess(spec.file, spec.args, {
    env: commandEnv(context.env, lock),
    foreground: spec.foreground,
  });
  onStart(command);
  let stoppedFor: unknown;
  const onStop = () => {
    stoppedFor = stop.reason ?? new Error('stopped');
    context.reporter.line(
      `${describeStop(stoppedFor)}: stopping the command (SIGTERM now, SIGKILL after ${formatDuration(spec.graceMs)})`,
    );
    void command.stop(spec.graceMs);
  };
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  try {
    const outcome = await command.outcome;
    if (stoppedFor !== undefined) await command.stop(spec.graceMs);
    return { outcome, command, stoppedFor };
  } finally {
    stop.removeEventListener('abort', onStop);
  }
}
