import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freezeProcess } from './freeze.js';

/** How to start one real server for tests. */
export interface ServerSpec {
  /** Upper-case name used for the override variable `LOCK_TEST_<NAME>_URL`, such as `REDIS`. */
  readonly name: string;
  /** The executable to run, looked up on PATH. */
  readonly command: string;
  /** Arguments, given the free ports picked for this run and a fresh scratch folder. */
  readonly args: (ports: readonly number[], dir: string) => string[];
  /** How many free loopback ports the server needs. @default 1 */
  readonly ports?: number;
  /** Environment added to the server's. */
  readonly env?: Record<string, string>;
  /** The URL tests connect to. */
  readonly url: (ports: readonly number[]) => string;
  /** Resolves true once the server answers. @default a TCP connect to the first port */
  readonly ready?: (ports: readonly number[]) => Promise<boolean>;
  /** Longest wait for readiness, in ms. @default 20000 */
  readonly startTimeoutMs?: number;
  /** How to install the server, shown when it is missing. */
  readonly installHint: string;
  /** Folder to make the scratch folder in (e.g. tmpfs for etcd). @default the OS temp folder */
  readonly scratchRoot?: string;
}

/** A server started for tests (or given by `LOCK_TEST_<NAME>_URL`). */
export interface RunningServer {
  /** Where to connect. */
  readonly url: string;
  /** The ports it listens on (empty when given by URL). */
  readonly ports: readonly number[];
  /** Its scratch folder (empty when given by URL). */
  readonly dir: string;
  /** Its process, when this harness started it. */
  readonly process: ChildProcess | undefined;
  /** Freezes the server (SIGSTOP), as a hung or partitioned server; returns once it is stopped. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Stops the server and removes its scratch folder. */
  stop(): Promise<void>;
}

/** True when running under CI, where a missing server is a failure, never a skip. */
export const isCI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true if a TCP connection to 127.0.0.1:`port` succeeds. */
export function canConnect(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/**
 * Whether `spec`'s server can run here: given by URL, or its binary on PATH. When it cannot
 * and we are not under CI, prints a loud warning (the caller then skips); under CI it throws.
 */
export function serverAvailable(
  spec: Pick<ServerSpec, 'name' | 'command' | 'installHint'>,
): boolean {
  if (process.env[`LOCK_TEST_${spec.name}_URL`]) return true;
  if (hasCommand(spec.command)) return true;
  const message = `${spec.name} tests need \`${spec.command}\`, which is not installed (${spec.installHint}), and LOCK_TEST_${spec.name}_URL is not set`;
  if (isCI) throw new Error(`${message}. Under CI a missing server is a failure.`);
  console.warn(`\n*** SKIPPING ${spec.name} TESTS: ${message}. ***\n`);
  return false;
}

/**
 * Starts a real server on free loopback ports and waits until it is ready, or uses
 * `LOCK_TEST_<NAME>_URL` when that is set. Stop it with `stop()`.
 */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const given = process.env[`LOCK_TEST_${spec.name}_URL`];
  if (given) {
    return {
      url: given,
      ports: [],
      dir: '',
      process: undefined,
      pause() {},
      resume() {},
      stop: async () => {},
    };
  }
  const ports: number[] = [];
  for (let i = 0; i < (spec.ports ?? 1); i++) ports.push(await freePort());
  const dir = mkdtempSync(join(spec.scratchRoot ?? tmpdir(), `lock-${spec.name.toLowerCase()}-`));
  const child = spawn(spec.command, spec.args(ports, dir), {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = spec.ready ?? ((p) => canConnect(p[0] as number));
  const deadline = Date.now() + (spec.startTimeoutMs ?? 20_000);
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  while (!(await ready(ports).catch(() => false))) {
    if (exitedEarly || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `${spec.command} did not become ready on ports ${ports.join(',')}: ${stderr.trim()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url: spec.url(ports),
    ports,
    dir,
    process: child,
    pause: () => freezeProcess(child.pid as number, (signal) => child.kill(signal)),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
