import type { Reporter } from './reporter.js';

/** What a command needs from the process it runs in. */
export interface CliContext {
  /** The environment (for `LOCK_URL`, and as the base of the command's). */
  readonly env: NodeJS.ProcessEnv;
  /** Writes `lock`'s own messages to stderr, secrets scrubbed. */
  readonly reporter: Reporter;
  /** Writes results (status, help) to stdout. */
  readonly out: (text: string) => void;
}

/** A command's entry point: its arguments in, the exit code out. */
export type CommandRun = (argv: readonly string[], context: CliContext) => Promise<number>;
