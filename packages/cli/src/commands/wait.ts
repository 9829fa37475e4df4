import { targetOf } from '../command-line.js';
import type { CommandRun } from '../context.js';
import { formatDuration, parseDuration } from '../duration.js';
import { EXIT, signalExitCode } from '../exit-codes.js';
import { HELP_FLAG, stringFlag } from '../flags.js';
import { closeLocker, openLocker } from '../open-locker.js';
import { catchSignals } from '../signals.js';
import { waitUntilFree } from '../wait-until-free.js';
import { parseOrHelp } from './parse.js';

/** `lock wait <uri> <key> [--timeout D]`: block until nobody holds the key. */
export const run: CommandRun = async (argv, context) => {
  const line = parseOrHelp('wait', argv, { ...HELP_FLAG, timeout: { type: 'string' } }, context);
  if (line === undefined) return EXIT.ok;
  const { uri, key } = targetOf(line, context.env, false);
  const timeoutText = stringFlag(line, 'timeout');
  const timeoutMs =
    timeoutText === undefined
      ? Number.POSITIVE_INFINITY
      : parseDuration('--timeout', timeoutText, { minMs: 0 });
  context.reporter.hideSecretsOf(uri);
  let interruptedBy: NodeJS.Signals | undefined;
  const interrupted = new AbortController();
  const signals = catchSignals((signal) => {
    interruptedBy ??= signal;
    interrupted.abort();
  });
  try {
    const locker = await openLocker(uri, { onError: () => {} });
    try {
      const outcome = await waitUntilFree(locker, key, timeoutMs, interrupted.signal);
      if (outcome === 'free') return EXIT.ok;
      if (outcome === 'stopped') return signalExitCode(interruptedBy ?? 'SIGINT');
      context.reporter.line(
        `${JSON.stringify(key)} is still held after ${formatDuration(timeoutMs)}`,
      );
      return EXIT.timeout;
    } finally {
      await closeLocker(locker);
    }
  } finally {
    signals.dispose();
  }
};
