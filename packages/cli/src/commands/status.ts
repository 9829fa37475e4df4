import { targetOf } from '../command-line.js';
import type { CommandRun } from '../context.js';
import { formatDuration } from '../duration.js';
import { EXIT } from '../exit-codes.js';
import { booleanFlag, HELP_FLAG } from '../flags.js';
import { closeLocker, openLocker } from '../open-locker.js';
import { parseOrHelp } from './parse.js';

/** `lock status <uri> <key> [--json]`: who holds the key. Exit 0 when held, 1 when free. */
export const run: CommandRun = async (argv, context) => {
  const line = parseOrHelp('status', argv, { ...HELP_FLAG, json: { type: 'boolean' } }, context);
  if (line === undefined) return EXIT.ok;
  const { uri, key } = targetOf(line, context.env, false);
  context.reporter.hideSecretsOf(uri);
  const locker = await openLocker(uri, { onError: () => {} });
  try {
    const info = await locker.inspect(key);
    if (booleanFlag(line, 'json')) {
      const body =
        info === undefined
          ? { key, held: false }
          : {
              key,
              held: true,
              holder: info.holder,
              remainingMs: info.remainingMs === undefined ? null : Math.round(info.remainingMs),
              fence: info.fence ?? null,
            };
      context.out(`${JSON.stringify(body)}\n`);
    } else if (info === undefined) {
      context.out(`${JSON.stringify(key)} is free\n`);
    } else {
      const details = [
        info.remainingMs === undefined ? undefined : `${formatDuration(info.remainingMs)} left`,
        info.fence === undefined ? undefined : `fence ${info.fence}`,
      ].filter((part) => part !== undefined);
      context.out(
        `${JSON.stringify(key)} is held by ${JSON.stringify(info.holder)}${
          details.length > 0 ? ` (${details.join(', ')})` : ''
        }\n`,
      );
    }
    return info === undefined ? EXIT.free : EXIT.ok;
  } finally {
    await closeLocker(locker);
  }
};
