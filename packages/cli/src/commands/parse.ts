import { type CommandLine, type FlagSpec, parseCommandLine } from '../command-line.js';
import type { CliContext } from '../context.js';
import { COMMAND_HELP, type CommandName } from '../help.js';

/**
 * Parses a command's arguments; when `--help` is among them, prints the command's help and
 * returns `undefined` (exit 0) instead.
 */
export function parseOrHelp(
  name: CommandName,
  argv: readonly string[],
  flags: FlagSpec,
  context: CliContext,
): CommandLine | undefined {
  const line = parseCommandLine(argv, flags);
  if (line.values['help'] === true) {
    context.out(COMMAND_HELP[name]);
    return undefined;
  }
  return line;
}
