import { type ChildProcess, spawn } from 'node:child_process';
import { EXIT, signalExitCode } from './exit-codes.js';

/** How the command ended. */
export type CommandOutcome =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'not-started'; readonly error: NodeJS.ErrnoException };

/** How to start the command. */
export interface CommandOptions {
  /** The command's whole environment. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Keep the command in `lock`'s own process group and session, so the terminal stays its
   * controlling terminal (for `/dev/tty` prompts and job control) and it gets the terminal's
   * signals itself; `lock` then signals only the command's process, not the processes it
   * starts. Without it (the default, as under GNU `timeout`), the command leads a session and
   * process group of its own, and every signal `lock` sends reaches the whole group.
   */
  readonly foreground: boolean;
}

const GROUP_POLL_MS = 50;

/**
 * The command run under the lock: started with the terminal's stdin, stdout and stderr, no
 * shell. Signals go to its process group (or to its process alone in foreground mode).
 */
export class CommandProcess {
  /** Settles once the command's process has exited, or could not be started. */
  readonly outcome: Promise<CommandOutcome>;
  readonly #child: ChildProcess;
  readonly #foreground: boolean;
  #stopping: Promise<void> | undefined;
  #ended = false;

  constructor(file: string, args: readonly string[], options: CommandOptions) {
    this.#foreground = options.foreground;
    this.#child = spawn(file, args, {
      stdio: 'inherit',
      env: options.env,
      detached: !options.foreground,
    });
    this.outcome = new Promise<CommandOutcome>((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#ended = true;
        resolve(signal === null ? { kind: 'exited', code: code ?? 0 } : { kind: 'killed', signal });
      });
      this.#child.once('error', (error: NodeJS.ErrnoException) => {
        // 'error' without a pid is a failed start; later ones (a failed kill) are ignored.
        if (this.#child.pid !== undefined) return;
        this.#ended = true;
        resolve({ kind: 'not-started', error });
      });
    });
  }

  /** Sends `signal` to the command's process group (its process alone in foreground mode). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      if (this.#foreground) {
        if (!this.#ended) this.#child.kill(signal);
      } else {
        process.kill(-pid, signal);
      }
    } catch {
      // ESRCH: everything in the group has exited already; nothing else can fail for our own
      // child, and a signal that cannot be sent has nobody left to reach.
    }
  }

  /**
   * Stops the command: SIGTERM now, SIGKILL to whatever is left after `graceMs`. Resolves once
   * its process has exited and its process group is empty, or SIGKILL was sent. Calling it again
   * returns the first call's promise.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    const deadline = performance.now() + graceMs;
    this.signal('SIGTERM');
    const killer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      await this.outcome;
      // Processes the command started may still be shutting down: give them the same grace.
      while (this.#groupAlive() && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS));
      }
      if (this.#groupAlive()) this.signal('SIGKILL');
    } finally {
      clearTimeout(killer);
    }
  }

  #groupAlive(): boolean {
    const pid = this.#child.pid;
    if (this.#foreground || pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

/** The exit code `lock` passes on for `outcome`, as a shell would. */
export function exitCodeOf(outcome: CommandOutcome): number {
  switch (outcome.kind) {
    case 'exited':
      return outcome.code;
    case 'killed':
      return signalExitCode(outcome.signal);
    case 'not-started':
      return outcome.error.code === 'ENOENT' ? EXIT.notFound : EXIT.notExecutable;
  }
}

/** A one-line reason a command could not be started. */
export function startFailure(file: string, error: NodeJS.ErrnoException): string {
  return error.code === 'ENOENT'
    ? `command not found: ${JSON.stringify(file)}`
    : `cannot run ${JSON.stringify(file)}: ${error.message}`;
}
