import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A TypeScript script run as a child process that talks with the test in lines. */
export interface ChildScript {
  /** Resolves with the child's next stdout line that starts with `prefix` (rejects if it exits first). */
  waitFor(prefix: string): Promise<string>;
  /** Writes `line` to the child's stdin. */
  send(line: string): void;
  /** Resolves when the child exited, with its code and the time it exited (`performance.now()`). */
  readonly exited: Promise<{ readonly code: number | null; readonly at: number }>;
  /** Every line the child wrote to stdout so far. */
  readonly stdout: () => readonly string[];
  /** Everything the child wrote to stderr so far (for failure messages). */
  readonly stderr: () => string;
  /** Kills the child if it still runs. */
  kill(): void;
}

/**
 * Runs `file` (TypeScript, through tsx, with the `source` export condition so workspace packages
 * need no build) in a child process with `args`. Tests use it to check what only a process of
 * its own shows, such as whether it exits by itself once a client is closed (a socket or timer
 * left behind keeps it alive; jest's own process cannot show that).
 * @example
 * ```ts
 * const child = startChildScript(join(__dirname, 'close-child.ts'), [url]);
 * await child.waitFor('closed');
 * const { at } = await child.exited;
 * ```
 */
export function startChildScript(file: string, args: readonly string[] = []): ChildScript {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', file, ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => {
    child.on('exit', (code) => resolve({ code, at: performance.now() }));
  });
  const lines: string[] = [];
  const all: string[] = [];
  let wake: (() => void) | undefined;
  const reader = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  reader.on('line', (line) => {
    lines.push(line);
    all.push(line);
    wake?.();
  });
  let ended = false;
  void exited.then(() => {
    ended = true;
    wake?.();
  });
  return {
    async waitFor(prefix) {
      for (;;) {
        const index = lines.findIndex((line) => line.startsWith(prefix));
        if (index >= 0) return lines.splice(0, index + 1)[index] as string;
        if (ended) {
          throw new Error(`child ${file} exited before printing "${prefix}"; stderr: ${stderr}`);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    send(line) {
      child.stdin?.write(`${line}\n`);
    },
    exited,
    stdout: () => all,
    stderr: () => stderr,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
