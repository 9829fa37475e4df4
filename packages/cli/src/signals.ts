/** The signals `lock` passes on to the command it runs. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Catches SIGINT, SIGTERM and SIGHUP for as long as `lock` runs, so none of them kills it
 * before it has stopped its command and released its lock. Each one is handed to `onSignal`;
 * `dispose()` restores the defaults.
 */
export function catchSignals(onSignal: (signal: NodeJS.Signals) => void): { dispose(): void } {
  const listeners = FORWARDED_SIGNALS.map((signal) => {
    const listener = () => onSignal(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return {
    dispose: () => {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
}

/** What job control needs: the running command, if any, and a check to make before it resumes. */
export interface JobControl {
  /** The command running now, or `undefined`. */
  readonly command: () => { signal(signal: NodeJS.Signals): void } | undefined;
  /**
   * Called when `lock` is continued, before the command is: judge the lock by the clock now, so
   * one that ran out while suspended stops the command before it runs another instruction.
   */
  readonly beforeResume: () => void;
}

/**
 * Makes Ctrl-Z (SIGTSTP) suspend the command together with `lock`. Without this, a suspended
 * `lock` would stop renewing while the command, in a process group of its own, ran on without
 * the lock. The command is stopped with SIGSTOP (it cannot be ignored), then `lock` stops itself;
 * on SIGCONT, `lock` checks its lock first and continues the command after.
 */
export function followJobControl(control: JobControl): { dispose(): void } {
  const onStop = () => {
    control.command()?.signal('SIGSTOP');
    process.kill(process.pid, 'SIGSTOP');
  };
  const onContinue = () => {
    control.beforeResume();
    control.command()?.signal('SIGCONT');
  };
  process.on('SIGTSTP', onStop);
  process.on('SIGCONT', onContinue);
  return {
    dispose: () => {
      process.off('SIGTSTP', onStop);
      process.off('SIGCONT', onContinue);
    },
  };
}
