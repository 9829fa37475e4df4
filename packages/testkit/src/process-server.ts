import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freezeProcess } from './freeze.js';
import type { RunningServer, ServerSpec } from './harness.js';
import { freePorts } from './ports.js';
import { waitUntilReady } from './readiness.js';

/** One run of the server's process, and a promise of its exit. */
interface Launched {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/**
 * Starts `spec`'s binary as a local process on free loopback ports with a fresh scratch folder,
 * and waits until it is ready. `pause()` is SIGSTOP (returning once every thread has stopped),
 * `kill()` SIGKILL, `restart()` a kill and a fresh start on the same ports.
 */
export async function startProcessServer(spec: ServerSpec): Promise<RunningServer> {
  const ports = await freePorts(spec.ports ?? 1);
  const dir = mkdtempSync(join(spec.scratchRoot ?? tmpdir(), `lock-${spec.name.toLowerCase()}-`));
  let current: Launched;
  try {
    current = await launch(spec, ports, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = () => current.child.exitCode === null && current.child.signalCode === null;
  const kill = async () => {
    if (!running()) return;
    current.child.kill('SIGKILL');
    await current.exited;
  };
  return {
    provider: 'process',
    url: spec.url(ports),
    ports,
    dir,
    get process() {
      return current.child;
    },
    pause: async () =>
      freezeProcess(current.child.pid as number, (signal) => current.child.kill(signal)),
    resume: async () => {
      current.child.kill('SIGCONT');
    },
    kill,
    restart: async () => {
      await kill();
      // Back empty, like a container restarted on its fresh tmpfs.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      current = await launch(spec, ports, dir);
    },
    stop: async () => {
      if (running()) {
        current.child.kill('SIGCONT');
        current.child.kill('SIGTERM');
        const killer = setTimeout(() => current.child.kill('SIGKILL'), 5_000);
        await current.exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(spec: ServerSpec, ports: readonly number[], dir: string): Promise<Launched> {
  const child = spawn(spec.command, spec.args(ports, dir, '127.0.0.1'), {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  // A command that cannot be started exits at once (ENOENT) with no 'exit' of its own.
  child.once('error', () => {
    gone = true;
  });
  try {
    await waitUntilReady(spec, ports, () => gone);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `${spec.command} did not become ready on ports ${ports.join(',')}: ${stderr.trim() || (error as Error).message}`,
      { cause: error },
    );
  }
  return { child, exited };
}
