import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { freezeProcess } from '@lock/testkit/servers';
import type { FromWorker, ToWorker, WorkerConfig } from '../worker/protocol.js';

/**
 * A worker (or the fenced resource) as a child process with an IPC channel: started from the
 * bundled program, inside a network namespace when the run has one; paused, resumed or killed
 * by the nemesis.
 */
export class WorkerProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly exited: Promise<void>;
  readonly #listeners = new Set<(message: FromWorker) => void>();
  #paused = false;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: FromWorker) => {
      for (const listener of this.#listeners) listener(message);
    });
    child.on('error', () => {});
  }

  /** Starts `program` with `args`; its stderr goes to `stderrPath`. */
  static start(
    name: string,
    program: string,
    args: readonly string[],
    options: { netns: string | undefined; stderrPath: string },
  ): WorkerProcess {
    const node = [process.execPath, program, ...args];
    const [command, argv] =
      options.netns === undefined
        ? [node[0] as string, node.slice(1)]
        : ['ip', ['netns', 'exec', options.netns, ...node]];
    const child = spawn(command, argv, {
      stdio: ['ignore', 'ignore', openSync(options.stderrPath, 'a'), 'ipc'],
    });
    return new WorkerProcess(name, child);
  }

  /** Starts a worker with `config`. */
  static worker(
    program: string,
    config: WorkerConfig,
    netns: string | undefined,
    stderrPath: string,
  ): WorkerProcess {
    return WorkerProcess.start(config.process, program, [JSON.stringify(config)], {
      netns,
      stderrPath,
    });
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Whether it is stopped now. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Listens to its reports; returns a function that stops listening. */
  onMessage(listener: (message: FromWorker) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first report `accept` takes, or `undefined` after `timeoutMs` or exit. */
  waitFor<T>(
    accept: (message: FromWorker) => T | undefined,
    timeoutMs: number,
  ): Promise<T | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (value: T | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stop();
        resolve(value);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const stop = this.onMessage((message) => {
        const value = accept(message);
        if (value !== undefined) finish(value);
      });
      void this.exited.then(() => finish(undefined));
    });
  }

  /** Sends a command (dropped if the process is gone). */
  send(message: ToWorker | { cmd: 'stop' }): void {
    if (this.alive && this.#child.connected) this.#child.send(message, () => {});
  }

  /** Stops it (SIGSTOP), returning once every thread is stopped. */
  pause(): void {
    if (!this.alive || this.#child.pid === undefined) return;
    freezeProcess(this.#child.pid, (signal) => this.#child.kill(signal));
    this.#paused = true;
  }

  /** Resumes it (SIGCONT). */
  resume(): void {
    if (!this.alive) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  /** Kills it (SIGKILL) and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.alive) {
      this.#child.kill('SIGKILL');
      this.#child.kill('SIGCONT');
    }
    await this.exited;
  }
}
