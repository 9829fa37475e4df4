import type { StartedTestContainer, WaitStrategy } from 'testcontainers';
import { type ContainerSpec, containerCommand, imageOf } from './container-spec.js';
import type { RunningServer, ServerSpec } from './harness.js';
import { freePorts } from './ports.js';
import type { ProviderChoice } from './provider-choice.js';
import { waitUntilReady } from './readiness.js';

type Testcontainers = typeof import('testcontainers');

/** The scratch folder inside every container: a tmpfs, fresh at each (re)start. */
export const CONTAINER_SCRATCH = '/lock-scratch';
/** Label on every container started here, so a leftover one can be found and removed. */
export const CONTAINER_LABEL = 'org.lock.testkit.server';

/** Longest wait for a Docker API call other than the start (pause, kill, inspect…). */
const API_TIMEOUT_MS = 30_000;
/** Longest wait for a container to be created and started, an image pull included. */
const START_TIMEOUT_MS = 300_000;

/**
 * testcontainers' own wait, replaced: the spec's readiness check (its protocol, on the host
 * port) follows every start. The default wait for published ports also runs a shell inside the
 * container, which an image of one binary (scripts/test-containers.sh) has not.
 */
const startedIsEnough: WaitStrategy = {
  waitUntilReady: async () => {},
  withStartupTimeout() {
    return this;
  },
  isStartupTimeoutSet: () => true,
  getStartupTimeout: () => 0,
};

let loading: Promise<Testcontainers> | undefined;

/** testcontainers, imported on first use only: the process provider never loads it. */
function loadTestcontainers(): Promise<Testcontainers> {
  loading ??= import('testcontainers').catch((error: unknown) => {
    loading = undefined;
    throw new Error(
      'the container provider needs testcontainers (a devDependency of @lock/testkit): run pnpm install',
      { cause: error },
    );
  });
  return loading;
}

/**
 * Starts `spec` in a container (testcontainers) and waits until it is ready, on free host
 * ports that are the same inside the container: with host networking the server binds them on
 * 127.0.0.1; on a bridge it binds them on 0.0.0.0 and each is published on the same host port,
 * so `url`, `ready` and a restart all keep one address. The scratch folder is a tmpfs at
 * {@link CONTAINER_SCRATCH}; `spec.mounts` are bound read-only at their own paths.
 * `pause()` is `docker pause` (the cgroup freezer), `kill()` is `docker kill` (SIGKILL),
 * `restart()` starts it again, empty, on the same ports.
 */
export async function startContainerServer(
  spec: ServerSpec & { readonly container: ContainerSpec },
  choice: ProviderChoice,
): Promise<RunningServer> {
  // testcontainers must talk to the engine that answered the probe.
  if (choice.dockerHost !== undefined && !process.env['DOCKER_HOST']) {
    process.env['DOCKER_HOST'] = choice.dockerHost;
  }
  // Every server here is reached on 127.0.0.1. Without this, testcontainers seeing /.dockerenv
  // (some virtual machines have one) asks for the engine's bridge network, which an engine
  // started with --bridge=none has not, and fails.
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ||= '127.0.0.1';
  const tc = await loadTestcontainers();
  const ports = await freePorts(spec.ports ?? 1);
  const bridge = choice.network === 'bridge';
  const image = imageOf(spec.container);
  const command = containerCommand(
    spec,
    ports,
    CONTAINER_SCRATCH,
    bridge ? '0.0.0.0' : '127.0.0.1',
  );

  let definition = new tc.GenericContainer(image)
    .withCommand(command)
    .withTmpFs({ [CONTAINER_SCRATCH]: 'rw,mode=1777' })
    .withLabels({ [CONTAINER_LABEL]: spec.name })
    .withWaitStrategy(startedIsEnough);
  if (spec.env !== undefined) definition = definition.withEnvironment(spec.env);
  if (spec.mounts !== undefined && spec.mounts.length > 0) {
    definition = definition.withBindMounts(
      spec.mounts.map((path) => ({ source: path, target: path, mode: 'ro' as const })),
    );
  }
  definition = bridge
    ? definition.withExposedPorts(...ports.map((port) => ({ container: port, host: port })))
    : definition.withNetworkMode('host');

  let started: StartedTestContainer;
  try {
    started = await withDeadline(definition.start(), START_TIMEOUT_MS, 'start');
  } catch (error) {
    throw new Error(
      `could not start ${spec.name} in a container from ${image} (${spec.container.imageVariable} names another image): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const client = await tc.getContainerRuntimeClient();
  const container = client.container.getById(started.getId());
  const api = <T>(what: string, call: () => Promise<T>) =>
    withDeadline(call(), API_TIMEOUT_MS, `${what} ${spec.name}`);
  const isRunning = async () => (await api('inspect', () => container.inspect())).State.Running;

  const ready = async () => {
    let checkedAt = 0;
    try {
      await waitUntilReady(spec, ports, async () => {
        // Asking the engine every 25 ms would load it: every 250 ms is soon enough.
        if (Date.now() - checkedAt < 250) return false;
        checkedAt = Date.now();
        return !(await isRunning());
      });
    } catch (error) {
      throw new Error(
        `${spec.name} in a container from ${image} did not become ready: ${(error as Error).message}\n${await tailOfLogs(started)}`,
        { cause: error },
      );
    }
  };
  try {
    await ready();
  } catch (error) {
    await started.stop({ timeout: 0, remove: true }).catch(() => {});
    throw error;
  }

  let paused = false;
  const thaw = async () => {
    if (!paused) return;
    await api('unpause', () => container.unpause());
    paused = false;
  };
  const kill = async () => {
    if (!(await isRunning())) return;
    // Not thawed first: Docker sends SIGKILL to a paused container and then thaws it, so a
    // frozen server dies without reading another byte, as a SIGSTOPped process does.
    await api('kill', () => container.kill());
    paused = false;
    const deadline = Date.now() + API_TIMEOUT_MS;
    while (await isRunning()) {
      if (Date.now() > deadline) throw new Error(`${spec.name} still runs after docker kill`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    provider: 'container',
    url: spec.url(ports),
    ports,
    dir: CONTAINER_SCRATCH,
    process: undefined,
    pause: async () => {
      // `docker pause` returns once the freezer reports every process frozen.
      await api('pause', () => container.pause());
      paused = true;
    },
    resume: thaw,
    kill,
    restart: async () => {
      await kill();
      await api('restart', () => started.restart({ timeout: 0 }));
      await ready();
    },
    stop: async () => {
      await thaw().catch(() => {});
      // As for a process: SIGTERM, then SIGKILL after 5 s; then the container is removed.
      await api('stop', () => started.stop({ timeout: 5_000, remove: true }));
    },
  };
}

/** The last lines the container wrote, for an error message. */
async function tailOfLogs(started: StartedTestContainer): Promise<string> {
  try {
    const stream = await withDeadline(started.logs({ tail: 30 }), 5_000, 'logs');
    let text = '';
    await withDeadline(
      new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer | string) => {
          text += chunk.toString();
        });
        stream.on('end', resolve);
        stream.on('error', () => resolve());
      }),
      2_000,
      'logs',
    ).catch(() => stream.destroy());
    return text.trim() ? `its last output:\n${text.trim()}` : 'it wrote nothing';
  } catch {
    return 'its output could not be read';
  }
}

/** `promise`, or a rejection naming `what` after `ms`: no Docker call may hang a test forever. */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Docker ${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
