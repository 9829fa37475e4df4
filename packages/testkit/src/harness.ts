import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { startContainerServer } from './container-server.js';
import type { ContainerSpec } from './container-spec.js';
import { startProcessServer } from './process-server.js';
import { chooseProvider } from './provider-choice.js';

export { canConnect, freePort } from './ports.js';

/** How to start one real server for tests. */
export interface ServerSpec {
  /** Upper-case name used for the override variable `LOCK_TEST_<NAME>_URL`, such as `REDIS`. */
  readonly name: string;
  /** The executable to run, looked up on PATH. */
  readonly command: string;
  /**
   * Arguments, given the free ports picked for this run, a fresh scratch folder, and the
   * address to listen on: `127.0.0.1`, or `0.0.0.0` inside a container whose ports are
   * published from a bridge network (a spec that ignores it runs on host networks only).
   */
  readonly args: (ports: readonly number[], dir: string, listenHost?: string) => string[];
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
  /**
   * How to run it in a container, under `LOCK_TEST_SERVERS=containers` (or `auto` where a
   * Docker engine answers). A spec without one always runs as a local process.
   */
  readonly container?: ContainerSpec;
  /** Host folders the server reads (certificates…), bound read-only at the same path in a container. */
  readonly mounts?: readonly string[];
}

/** A server started for tests (or given by `LOCK_TEST_<NAME>_URL`). */
export interface RunningServer {
  /** What runs it: a local `process`, a `container`, or a server given by `url`. */
  readonly provider: 'process' | 'container' | 'url';
  /** Where to connect. */
  readonly url: string;
  /** The ports it listens on, on 127.0.0.1 (empty when given by URL). */
  readonly ports: readonly number[];
  /** Its scratch folder, inside the container for a container (empty when given by URL). */
  readonly dir: string;
  /** Its process, when this harness started it as one (the current one after a restart). */
  readonly process: ChildProcess | undefined;
  /**
   * Freezes the server, as a hung or partitioned server: SIGSTOP for a process, `docker pause`
   * for a container. Resolves once it is frozen.
   */
  pause(): Promise<void>;
  /** Thaws a paused server (SIGCONT, `docker unpause`). */
  resume(): Promise<void>;
  /** Kills the server outright (SIGKILL, `docker kill`), as a crash; it stays down. */
  kill(): Promise<void>;
  /** Kills the server if it runs, then starts it again on the same ports, empty; resolves once ready. */
  restart(): Promise<void>;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its scratch folder or container. */
  stop(): Promise<void>;
}

/** True when running under CI, where a missing server is a failure, never a skip. */
export const isCI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether `startServer(spec)` can start this server here, without a word: it is given by
 * `LOCK_TEST_<NAME>_URL`, or it has a container and containers run the test servers, or its
 * binary is on PATH.
 * @throws when the provider cannot be chosen (see {@link chooseProvider})
 */
export function canStartServer(
  spec: Pick<ServerSpec, 'name' | 'command'> & Pick<Partial<ServerSpec>, 'container'>,
): boolean {
  if (process.env[`LOCK_TEST_${spec.name}_URL`]) return true;
  if (spec.container !== undefined && chooseProvider().provider === 'containers') return true;
  return hasCommand(spec.command);
}

/**
 * Whether `spec`'s server can run here (see {@link canStartServer}). When it cannot and we are
 * not under CI, prints a loud warning (the caller then skips); under CI it throws.
 */
export function serverAvailable(
  spec: Pick<ServerSpec, 'name' | 'command' | 'installHint'> &
    Pick<Partial<ServerSpec>, 'container'>,
): boolean {
  if (canStartServer(spec)) return true;
  const docker =
    spec.container === undefined
      ? ''
      : ', no Docker engine runs the test servers (LOCK_TEST_SERVERS)';
  const message = `${spec.name} tests need \`${spec.command}\`, which is not installed (${spec.installHint})${docker}, and LOCK_TEST_${spec.name}_URL is not set`;
  if (isCI) throw new Error(`${message}. Under CI a missing server is a failure.`);
  console.warn(`\n*** SKIPPING ${spec.name} TESTS: ${message}. ***\n`);
  return false;
}

/**
 * Starts a real server on free loopback ports and waits until it is ready: in a container when
 * the spec has one and containers run the test servers (`LOCK_TEST_SERVERS`), else as a local
 * process. Uses `LOCK_TEST_<NAME>_URL` instead when that is set. Stop it with `stop()`.
 */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const given = process.env[`LOCK_TEST_${spec.name}_URL`];
  if (given) return givenByUrl(spec.name, given);
  const choice = chooseProvider();
  const { container } = spec;
  if (choice.provider === 'containers' && container !== undefined) {
    return startContainerServer({ ...spec, container }, choice);
  }
  if (choice.requested === 'containers' && !processOnlyNoted.has(spec.name)) {
    processOnlyNoted.add(spec.name);
    process.stderr.write(
      `[@lock/testkit] ${spec.name} has no container: started as a local process\n`,
    );
  }
  return startProcessServer(spec);
}

const processOnlyNoted = new Set<string>();

/** A server someone else runs: it can be used, not frozen, killed or restarted. */
function givenByUrl(name: string, url: string): RunningServer {
  const refuse = (what: string) => async () => {
    throw new Error(
      `cannot ${what} ${name}: it is given by LOCK_TEST_${name}_URL, not started here`,
    );
  };
  return {
    provider: 'url',
    url,
    ports: [],
    dir: '',
    process: undefined,
    pause: refuse('pause'),
    resume: async () => {}, // nothing was paused
    kill: refuse('kill'),
    restart: refuse('restart'),
    stop: async () => {},
  };
}
