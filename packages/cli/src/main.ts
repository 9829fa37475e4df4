import { isLockError } from '@lock/core';
import type { CliContext, CommandRun } from './context.js';
import { EXIT } from './exit-codes.js';
import { COMMAND_HELP, type CommandName, MAIN_HELP } from './help.js';
import { describeError, Reporter } from './reporter.js';
import { UsageError } from './usage-error.js';

/** Each command's module, imported only when that command runs (cold start). */
const COMMANDS: Readonly<Record<CommandName, () => Promise<{ run: CommandRun }>>> = {
  exec: () => import('./commands/exec.js'),
  status: () => import('./commands/status.js'),
  wait: () => import('./commands/wait.js'),
  elect: () => import('./commands/elect.js'),
};

/**
 * Runs `lock` with `argv` (the arguments after the program name) and resolves to its exit
 * code. Never rejects: every failure is reported on stderr as one line and mapped to a code.
 */
export async function main(argv: readonly string[], version: () => string): Promise<number> {
  const context: CliContext = {
    env: process.env,
    reporter: new Reporter(),
    out: (text) => process.stdout.write(text),
  };
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0];
    context.out(isCommand(topic) ? COMMAND_HELP[topic] : MAIN_HELP);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    context.out(`${version()}\n`);
    return EXIT.ok;
  }
  if (!isCommand(name)) {
    if (name === undefined) process.stderr.write(MAIN_HELP);
    else {
      context.reporter.line(
        `unknown command ${JSON.stringify(name)}: use exec, status, wait or elect (see lock --help)`,
      );
    }
    return EXIT.usage;
  }
  try {
    const { run } = await COMMANDS[name]();
    return await run(rest, context);
  } catch (error) {
    return reportFailure(error, name, context.reporter);
  }
}

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

/** Reports a failure that ended a command, and returns its exit code. */
function reportFailure(error: unknown, name: CommandName, reporter: Reporter): number {
  if (error instanceof UsageError) {
    reporter.line(`${name}: ${error.message} (see lock ${name} --help)`);
    return EXIT.usage;
  }
  if (
    isLockError(error, 'INVALID_ARGUMENT') ||
    isLockError(error, 'INVALID_CONNECTION_STRING') ||
    isLockError(error, 'UNSUPPORTED_SERVICE')
  ) {
    // The message says what to fix (and names the package to install); the cause adds nothing.
    reporter.line(error.message);
    return EXIT.usage;
  }
  if (isLockError(error)) {
    reporter.line(describeError(error));
    return EXIT.backend;
  }
  reporter.line(`internal error: ${describeError(error)}`);
  return EXIT.internal;
}
