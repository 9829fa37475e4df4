/**
 * The exit codes of `lock`, in one table that `--help` prints and the README repeats.
 * A command run by `exec` or `elect` can exit with any code of its own; the codes below are
 * the ones `lock` itself chooses. They follow `sysexits.h` and GNU `timeout` where one fits.
 * @module
 */

import { constants } from 'node:os';

/** Exit codes `lock` chooses itself. */
export const EXIT = {
  /** `status`: the key is held. `wait`: the key is free. Also the command's own success. */
  ok: 0,
  /** `status`: the key is free. */
  free: 1,
  /** Bad flag, duration, key, identity or URI; unknown scheme or backend package not installed. */
  usage: 2,
  /** The backend failed: server down or unreachable, refused credentials, timed out. (`EX_UNAVAILABLE`) */
  backend: 69,
  /** A bug in `lock` itself (an error it does not know). (`EX_SOFTWARE`) */
  internal: 70,
  /** `exec --no-wait`: the key is held by someone else, so the command did not run. (`EX_TEMPFAIL`) */
  held: 75,
  /** `exec --wait`, `wait --timeout`: still held when the time ran out (as GNU `timeout`). */
  timeout: 124,
  /** `exec`: the lock was lost while the command ran; the command was stopped. */
  lost: 125,
  /** The command was found but could not be run (not executable), as in a shell. */
  notExecutable: 126,
  /** The command was not found, as in a shell. */
  notFound: 127,
} as const;

/** A line of the exit-code table: the code and what it means. */
export interface ExitCodeDoc {
  readonly code: string;
  readonly meaning: string;
}

/** The exit-code table of `lock --help` and the README, in order. */
export const EXIT_CODE_DOCS: readonly ExitCodeDoc[] = [
  { code: 'N', meaning: 'exec, elect: the command exited with code N' },
  {
    code: '128+S',
    meaning:
      'exec, elect: the command was killed by signal S, or lock got S before starting it (130 = SIGINT)',
  },
  { code: `${EXIT.ok}`, meaning: 'status: the key is held; wait: the key is free' },
  { code: `${EXIT.free}`, meaning: 'status: the key is free' },
  {
    code: `${EXIT.usage}`,
    meaning: 'usage error: bad flag, duration, key or URI; backend package not installed',
  },
  {
    code: `${EXIT.backend}`,
    meaning: 'backend error: server down, unreachable, refused or timed out',
  },
  { code: `${EXIT.internal}`, meaning: 'internal error in lock itself' },
  { code: `${EXIT.held}`, meaning: 'exec --no-wait: the key is held, the command did not run' },
  {
    code: `${EXIT.timeout}`,
    meaning: 'exec --wait, wait --timeout: still held when the time ran out',
  },
  {
    code: `${EXIT.lost}`,
    meaning: 'exec: the lock was lost while the command ran; the command was stopped',
  },
  { code: `${EXIT.notExecutable}`, meaning: 'exec, elect: the command could not be executed' },
  { code: `${EXIT.notFound}`, meaning: 'exec, elect: the command was not found' },
];

/** The shell's exit code for a process killed by `signal`: 128 + the signal's number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
