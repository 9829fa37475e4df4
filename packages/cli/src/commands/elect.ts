import type { LockHandle } from '@lock/core';
import { type CommandProcess, exitCodeOf, startFailure } from '../command-process.js';
import type { CommandRun } from '../context.js';
import { EXIT, signalExitCode } from '../exit-codes.js';
import { RUN_FLAGS } from '../flags.js';
import { reportBackgroundError } from '../lock-events.js';
import { closeLocker } from '../open-locker.js';
import { describeError } from '../reporter.js';
import { runCommand } from '../run-command.js';
import { runSetupOf } from '../run-setup.js';
import { catchSignals, followJobControl } from '../signals.js';
import { parseOrHelp } from './parse.js';

/**
 * `lock elect <uri> <key> [options] -- <command> [args…]`: runs the command only while this
 * process leads; stops it when leadership is lost and campaigns again; exits when the command
 * exits by itself (with its code) or when signalled while following.
 */
export const run: CommandRun = async (argv, context) => {
  const line = parseOrHelp('elect', argv, RUN_FLAGS, context);
  if (line === undefined) return EXIT.ok;
  const { key, spec, open } = runSetupOf(line, context);
  const { reporter } = context;

  let end: (code: number) => void = () => {};
  const ended = new Promise<number>((resolve) => {
    end = resolve;
  });
  let done = false;
  const finish = (code: number) => {
    done = true;
    end(code);
  };
  // SIGINT and SIGTERM mean "stop": passed on to a running command, after whose exit `lock`
  // exits too (even if leadership was lost meanwhile); while following, `lock` exits at once.
  // SIGHUP is a daemon's "reload": passed on to a running command, ignored while following.
  let command: CommandProcess | undefined;
  let stopAsked = false;
  const signals = catchSignals((signal) => {
    if (signal !== 'SIGHUP') stopAsked = true;
    if (command !== undefined) command.signal(signal);
    else if (signal !== 'SIGHUP') finish(signalExitCode(signal));
  });
  let leading: LockHandle | undefined;
  const jobControl = followJobControl({
    command: () => command,
    beforeResume: () => void leading?.held,
  });
  try {
    const locker = await open();
    try {
      if (done) return await ended;
      const election = locker.elect(key, {
        onLeader: async (leadership, lock) => {
          if (done || leadership.aborted) return;
          reporter.line(
            `leading ${JSON.stringify(key)} (fence ${lock.fence}): starting the command`,
          );
          leading = lock;
          const result = await runCommand(
            spec,
            lock,
            leadership,
            context,
            (started) => {
              command = started;
            },
            (reason) => `leadership lost: ${describeError(reason)}`,
          );
          command = undefined;
          leading = undefined;
          if (result.outcome.kind === 'not-started') {
            reporter.line(startFailure(spec.file, result.outcome.error));
            finish(exitCodeOf(result.outcome));
          } else if (result.stoppedFor === undefined || stopAsked || done) {
            finish(exitCodeOf(result.outcome));
          } else {
            reporter.line(`the command stopped; campaigning for ${JSON.stringify(key)} again`);
          }
        },
        onFollower: () => {
          if (!done) reporter.line(`following: waiting to lead ${JSON.stringify(key)}`);
        },
        onError: (error) => reportBackgroundError(reporter, error),
      });
      const code = await ended;
      await election.stop();
      return code;
    } finally {
      await closeLocker(locker);
    }
  } finally {
    signals.dispose();
    jobControl.dispose();
  }
};
