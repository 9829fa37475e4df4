import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { freezeProcess, type ServerSpec } from '@lock/testkit/servers';

/** How to run one server of a run. */
export interface ServerLaunch {
  /** A name for messages and fault logs, such as `redis-2` or `etcd-n1`. */
  readonly label: string;
  /** The testkit server spec (command, arguments, environment, readiness). */
  readonly spec: ServerSpec;
  /** Ports picked for it, kept across restarts. */
  readonly ports: readonly number[];
  /** Its scratch folder, kept across restarts that keep data. */
  readonly dir: string;
  /** Run inside this network namespace. */
  readonly netns?: string | undefined;
  /** Readiness check; defaults to the spec's (which assumes the host's loopback). */
  readonly ready?: (() => Promise<boolean>) | undefined;
}

/**
 * One server as a child process, from a testkit server spec, that the nemesis can pause
 * (SIGSTOP, returning once every thread is stopped), resume, kill (SIGKILL) and restart on the
 * same ports with its data or without it.
 */
export class ServerProcess {
  readonly launch: ServerLaunch;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;

  constructor(launch: ServerLaunch) {
    this.launch = launch;
  }

  /** Whether the process is running (paused counts as running). */
  get running(): boolean {
    return (
      this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
    );
  }

  /** Whether it is paused now. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Starts the server and resolves once it answers. */
  async start(): Promise<void> {
    const { spec, ports, dir, netns } = this.launch;
    mkdirSync(dir, { recursive: true });
    const args = spec.args(ports, dir);
    const [command, argv] =
      netns === undefined
        ? [spec.command, args]
        : ['ip', ['netns', 'exec', netns, spec.command, ...args]];
    const child = spawn(command, argv, {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    this.#paused = false;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4_000) stderr += chunk.toString();
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const ready = this.launch.ready ?? (() => (spec.ready ?? (async () => true))(ports));
    const deadline = performance.now() + (spec.startTimeoutMs ?? 20_000);
    while (!(await ready().catch(() => false))) {
      if (!this.running || performance.now() > deadline) {
        child.kill('SIGKILL');
        await this.#exited;
        throw new Error(
          `${this.launch.label} did not become ready: ${stderr.trim().slice(0, 500)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Freezes it (SIGSTOP); returns once every thread has stopped. */
  pause(): void {
    const child = this.#child;
    if (child?.pid === undefined || !this.running) return;
    freezeProcess(child.pid, (signal) => child.kill(signal));
    this.#paused = true;
  }

  /** Thaws it (SIGCONT). */
  resume(): void {
    if (!this.running) return;
    this.#child?.kill('SIGCONT');
    this.#paused = false;
  }

  /** Kills it at once (SIGKILL, as a crash), and resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child?.kill('SIGCONT');
    this.#child?.kill('SIGKILL');
    await this.#exited;
    this.#paused = false;
  }

  /** Crashes it and starts it again on the same ports, keeping its data or wiping it. */
  async restart(options: { keepData: boolean; downMs: number }): Promise<void> {
    await this.kill();
    if (!options.keepData) {
      rmSync(this.launch.dir, { recursive: true, force: true });
      mkdirSync(this.launch.dir, { recursive: true });
    }
    if (options.downMs > 0) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.start();
  }

  /** Stops it (SIGTERM, SIGKILL after 5 s) and removes its folder. */
  async stop(): Promise<void> {
    if (this.running) {
      this.#child?.kill('SIGCONT');
      this.#child?.kill('SIGTERM');
      const killer = setTimeout(() => this.#child?.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(killer);
    }
    rmSync(this.launch.dir, { recursive: true, force: true });
  }
}
