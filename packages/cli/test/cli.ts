import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

const packageRoot = join(__dirname, '..');

/**
 * How the tests run `lock`: the TypeScript sources through tsx, resolving workspace packages
 * to their sources (no build needed), or the built binary with `LOCK_TEST_CLI=dist`
 * (run `pnpm build` first).
 */
function lockCommand(): string[] {
  if (process.env['LOCK_TEST_CLI'] === 'dist') return [join(packageRoot, 'dist', 'bin.js')];
  return ['--conditions=source', '--import', 'tsx', join(packageRoot, 'src', 'bin.ts')];
}

/** The child-process fixture: logs its start and the signals it gets to a file. */
export const CHILD = join(__dirname, 'fixtures', 'child.mjs');

/** Options of one `lock` run. */
export interface LockRunOptions {
  /** Added to the environment (`LOCK_URL` is removed from it unless given here). */
  readonly env?: Record<string, string>;
  /** Extra Node flags before the script (such as `--import` of a loader hook). */
  readonly nodeArgs?: readonly string[];
}

/** A `lock` process started by a test. */
export interface LockProcess {
  readonly process: ChildProcess;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with its exit code (128 + n when killed by a signal) once it has exited. */
  readonly exited: Promise<number>;
  /** Resolves once stderr matches `pattern`; rejects after `timeoutMs` or when `lock` exits first. */
  stderrMatches(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Kills every `lock` a test started that is still running (continuing it first, in case a test
 * stopped it), for `afterEach`: a failed test must not leave one behind. Their commands notice
 * their parent is gone and exit by themselves.
 */
export function killLeftoverLocks(): void {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  running.clear();
}

/** Starts `lock args…` as a child process of the test. */
export function startLock(args: readonly string[], options: LockRunOptions = {}): LockProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.env?.['LOCK_URL'] === undefined) delete env['LOCK_URL'];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...lockCommand(), ...args], {
    cwd: packageRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    for (const check of waiters) check();
  });
  let closed = false;
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code, signal) => {
      closed = true;
      for (const check of waiters) check();
      resolve(code ?? 128 + (signal === null ? 0 : signalNumber(signal)));
    });
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stderrMatches: (pattern, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stderr never matched ${pattern} within ${timeoutMs} ms:\n${err}`));
        }, timeoutMs);
        const check = () => {
          const matched = pattern.test(err);
          if (!matched && !closed) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (matched) resolve();
          else reject(new Error(`lock exited and its stderr never matched ${pattern}:\n${err}`));
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Runs `lock args…` to the end. */
export async function runLock(
  args: readonly string[],
  options: LockRunOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const lock = startLock(args, options);
  const code = await lock.exited;
  return { code, stdout: lock.stdout(), stderr: lock.stderr() };
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

/** A scratch folder for the child fixture's log; removed by `remove()`. */
export function scratch(): { dir: string; log: (name: string) => string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lock-cli-test-'));
  return {
    dir,
    log: (name) => join(dir, `${name}.log`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One line of the child fixture's log: when (wall-clock ms), and what. */
export interface LogLine {
  readonly at: number;
  readonly what: string;
}

/** The child fixture's log so far (empty when it has not started). */
export function readLog(file: string): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      return { at: Number(line.slice(0, space)), what: line.slice(space + 1) };
    });
}

/** Resolves with the first log line starting with `prefix`; rejects after `timeoutMs`. */
export async function logLine(file: string, prefix: string, timeoutMs = 15_000): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readLog(file).find((line) => line.what.startsWith(prefix));
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no "${prefix}" line in ${file} within ${timeoutMs} ms: ${JSON.stringify(readLog(file))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `key=value` fields of a log line such as `start pid=12 key=k fence=3`. */
export function fieldsOf(line: LogLine): Record<string, string> {
  return Object.fromEntries(
    line.what
      .split(' ')
      .slice(1)
      .map((field) => field.split('=') as [string, string]),
  );
}
