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
