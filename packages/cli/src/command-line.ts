import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

/** The flags one command accepts, in `util.parseArgs` form. */
export type FlagSpec = Readonly<
  Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>
>;

/** One command's arguments, parsed. */
export interface CommandLine {
  /** Flag values by name (`true` for a boolean flag given). */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** Arguments before `--` that are not flags. */
  readonly positionals: readonly string[];
  /** Everything after the first `--`, or `undefined` when there is no `--`. */
  readonly command: readonly string[] | undefined;
}

/**
 * Parses one command's arguments with `util.parseArgs`. The first `--` ends the flags: what
 * follows is the command to run, passed on untouched (its own flags are never read as ours).
 *
 * `parseArgs` runs non-strict so that each mistake can be reported in our own one-line form
 * with the flag's name (strict mode only gives Node's multi-line message); the tokens it
 * returns are then checked here: unknown flags, missing values, values given to switches, and
 * flags given twice are usage errors.
 * @throws {UsageError} for any of those.
 */
export function parseCommandLine(argv: readonly string[], flags: FlagSpec): CommandLine {
  const dashes = argv.indexOf('--');
  const head = dashes < 0 ? [...argv] : argv.slice(0, dashes);
  const command = dashes < 0 ? undefined : argv.slice(dashes + 1);
  const { values, positionals, tokens } = parseArgs({
    args: head,
    options: flags,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (values['help'] === true) return { values, positionals, command };
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = flags[token.name];
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    if (seen.has(token.name)) throw new UsageError(`${token.rawName} is given twice`);
    seen.add(token.name);
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${token.rawName} takes no value, got ${JSON.stringify(token.value)}`);
    }
    if (
      spec.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      throw new UsageError(
        `${token.rawName} needs a value (write ${token.rawName}=VALUE for one that starts with "-")`,
      );
    }
  }
  return { values, positionals, command };
}

/** Where a command acts: the backend's URI and the lock's key. */
export interface Target {
  readonly uri: string;
  readonly key: string;
}

/**
 * Reads `<uri> <key>` from the positionals, or `<key>` alone with the URI from `LOCK_URL`.
 * @throws {UsageError} when either is missing or empty, or an argument is left over.
 */
export function targetOf(line: CommandLine, env: NodeJS.ProcessEnv, runsCommand: boolean): Target {
  const [first, second, extra] = line.positionals;
  if (extra !== undefined) {
    throw new UsageError(
      runsCommand
        ? `unexpected argument ${JSON.stringify(extra)}: put -- before the command to run`
        : `unexpected argument ${JSON.stringify(extra)}`,
    );
  }
  if (first === undefined) {
    throw new UsageError('missing the URI and the key (the URI may also come from LOCK_URL)');
  }
  let uri: string;
  let key: string;
  if (second !== undefined) {
    uri = first;
    key = second;
  } else {
    const fromEnv = env['LOCK_URL'];
    if (fromEnv === undefined || fromEnv === '' || first.includes('://')) {
      throw new UsageError('missing the key: give <uri> <key>, or set LOCK_URL and give <key>');
    }
    uri = fromEnv;
    key = first;
  }
  if (uri === '') throw new UsageError('the URI must not be empty');
  if (key === '') throw new UsageError('the key must not be empty');
  return { uri, key };
}

/**
 * The command to run, from after `--`.
 * @throws {UsageError} when there is no `--` or nothing after it.
 */
export function commandOf(line: CommandLine): readonly [string, ...string[]] {
  const [file, ...args] = line.command ?? [];
  if (file === undefined || file === '') {
    throw new UsageError(
      line.command === undefined
        ? 'missing the command: put it after --, as in: -- ./report.sh'
        : 'missing the command after --',
    );
  }
  return [file, ...args];
}
