import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runLock } from './cli.js';

const run = (args: string[], env?: Record<string, string>) =>
  runLock(args, env === undefined ? {} : { env });

/** Each case: the arguments, and what the one line on stderr must say. */
const USAGE_ERRORS: ReadonlyArray<readonly [string, string[], RegExp]> = [
  ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ['no URI and no key', ['exec'], /exec: missing the URI and the key/],
  ['a URI but no key, no LOCK_URL', ['status', 'local:'], /status: missing the key/],
  [
    'no -- before the command',
    ['exec', 'local:', 'k'],
    /exec: missing the command: put it after --/,
  ],
  ['nothing after --', ['exec', 'local:', 'k', '--'], /exec: missing the command after --/],
  [
    'a command without --',
    ['exec', 'local:', 'k', 'true'],
    /exec: unexpected argument "true": put -- before the command/,
  ],
  ['an unknown flag', ['exec', 'local:', 'k', '--bogus', '--', 'true'], /unknown option --bogus/],
  ['an unknown short flag', ['status', 'local:', 'k', '-x'], /status: unknown option -x/],
  [
    'a flag without its value',
    ['exec', 'local:', 'k', '--ttl', '--', 'true'],
    /exec: --ttl needs a value/,
  ],
  [
    'a duration without a unit',
    ['exec', 'local:', 'k', '--ttl', '5', '--', 'true'],
    /exec: --ttl "5" is not a duration: write a number and a unit, such as 500ms, 30s, 2m/,
  ],
  [
    'a negative duration',
    ['exec', 'local:', 'k', '--wait=-5s', '--', 'true'],
    /exec: --wait "-5s" is not a duration/,
  ],
  [
    'a TTL below the least',
    ['exec', 'local:', 'k', '--ttl', '50ms', '--', 'true'],
    /exec: --ttl "50ms" is too short: the least is 100ms/,
  ],
  [
    'a duration past what a timer holds',
    ['exec', 'local:', 'k', '--wait', '1000h', '--', 'true'],
    /exec: --wait "1000h" is too long/,
  ],
  [
    'a bad --grace',
    ['elect', 'local:', 'k', '--grace', 'soon', '--', 'true'],
    /elect: --grace "soon" is not a duration/,
  ],
  [
    'a bad --timeout',
    ['wait', 'local:', 'k', '--timeout', 'forever'],
    /wait: --timeout "forever" is not a duration/,
  ],
  [
    '--wait with --no-wait',
    ['exec', 'local:', 'k', '--wait', '1s', '--no-wait', '--', 'true'],
    /exec: --wait and --no-wait cannot be given together/,
  ],
  [
    'a value given to a switch',
    ['status', 'local:', 'k', '--json=yes'],
    /status: --json takes no value, got "yes"/,
  ],
  [
    'a flag given twice',
    ['exec', 'local:', 'k', '--ttl', '1s', '--ttl', '2s', '--', 'true'],
    /exec: --ttl is given twice/,
  ],
  [
    'an identity with whitespace',
    ['exec', 'local:', 'k', '--identity', 'web 1', '--', 'true'],
    /exec: --identity "web 1" must be 1 to 200 characters without whitespace/,
  ],
  ['an empty key', ['exec', 'local:', '', '--', 'true'], /exec: the key must not be empty/],
  ['an extra argument', ['status', 'local:', 'k', 'more'], /status: unexpected argument "more"/],
  [
    'a flag of another command',
    ['elect', 'local:', 'k', '--no-wait', '--', 'true'],
    /elect: unknown option --no-wait/,
  ],
  ['a URI without a scheme', ['status', 'nonsense', 'k'], /invalid connection string "nonsense"/],
  [
    'a scheme no backend serves',
    ['status', 'zookeeper://h:2181', 'k'],
    /no lock backend serves the "zookeeper:" scheme/,
  ],
  [
    'a malformed backend URI',
    ['status', 'local:has space', 'k'],
    /invalid connection string "local:has space"/,
  ],
];

describe('usage errors: one line on stderr naming the value, exit code 2', () => {
  it.concurrent.each(USAGE_ERRORS)('%s', async (_name, args, message) => {
    const { code, stdout, stderr } = await run(args);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });

  it('no arguments at all: the usage on stderr, exit 2', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(stderr).toMatch(/^Usage: lock <command>/);
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });

  it('a password in a bad URI never shows', async () => {
    const { code, stderr } = await run(['status', 'redis://alice:hunter2@127.0.0.1:6379/x', 'k']);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /invalid connection string "redis:\/\/alice:\*\*\*@127\.0\.0\.1:6379\/x"/,
    );
    expect(stderr).not.toContain('hunter2');
  });

  it('LOCK_URL set and a URI given alone: the key is missing', async () => {
    const { code, stderr } = await run(['status', 'redis://127.0.0.1:6379'], {
      LOCK_URL: 'local:',
    });
    expect(stderr).toMatch(/status: missing the key/);
    expect(code).toBe(2);
  });

  it('a backend package that is not installed: exit 2, and the package to install', async () => {
    const { code, stderr } = await runLock(['status', 'redis://127.0.0.1:6379', 'k'], {
      env: { LOCK_TEST_HIDE_PACKAGES: '@lock/redis' },
      nodeArgs: ['--import', join(__dirname, 'fixtures', 'hide-packages.mjs')],
    });
    expect(stderr).toMatch(
      /the "redis:" scheme needs the package @lock\/redis: run `npm i @lock\/redis`/,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(code).toBe(2);
  });
});

describe('--help, --version, LOCK_URL', () => {
  it.concurrent.each(['exec', 'status', 'wait', 'elect'])(
    'lock %s --help prints its usage and exit codes on stdout, exit 0',
    async (command) => {
      const viaFlag = await run([command, '--help']);
      expect(viaFlag.code).toBe(0);
      expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: lock ${command} <uri> <key>`));
      expect(viaFlag.stdout).toMatch(/Exit codes:/);
      // -h, and --help among other (even wrong) flags, and `lock help <command>`, say the same.
      for (const args of [
        [command, '-h'],
        [command, 'local:', 'k', '--bogus', '--help'],
        ['help', command],
      ]) {
        const other = await run(args);
        expect({ args, code: other.code, stdout: other.stdout }).toEqual({
          args,
          code: 0,
          stdout: viaFlag.stdout,
        });
      }
    },
  );

  it('lock --help lists the commands and every exit code', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of ['exec', 'status', 'wait', 'elect'])
      expect(stdout).toContain(`  ${command} `);
    for (const exitCode of ['0', '1', '2', '69', '70', '75', '124', '125', '126', '127']) {
      expect(stdout).toMatch(new RegExp(`^  ${exitCode} +\\S`, 'm'));
    }
  });

  it('lock --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    const { code, stdout } = await run(['--version']);
    expect(stdout).toBe(`${version}\n`);
    expect(code).toBe(0);
  });

  it('the URI comes from LOCK_URL when only the key is given', async () => {
    const { code, stdout } = await run(['status', 'k', '--json'], { LOCK_URL: 'local:' });
    expect(JSON.parse(stdout)).toEqual({ key: 'k', held: false });
    expect(code).toBe(1);
  });
});
