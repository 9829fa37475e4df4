import {
  canStartServer,
  etcdServerSpec,
  memcachedServerSpec,
  type RunningServer,
  redisServerSpec,
  type ServerSpec,
  startServer,
} from '@lock/testkit/servers';
import type { ServerKind } from '../server-counters.js';

/**
 * The environment variable through which the bench's child processes (contenders, held-lock
 * runs) find the server the parent started for a suite, so they connect to it instead of
 * starting their own.
 */
export function sharedServerVariable(kind: ServerKind | string): string {
  return `BENCH_SHARED_${kind.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}

/** The URL of the `kind` server this run shares, once a suite has started one. */
export function sharedServerUrl(kind: ServerKind): string | undefined {
  return process.env[sharedServerVariable(kind)];
}

/**
 * Starts a server for `kind`, or reuses the one the parent process started (children inherit
 * its URL through the environment; their `stop()` leaves it running).
 */
export async function startShared(
  kind: ServerKind | string,
  start: () => Promise<RunningServer>,
): Promise<RunningServer> {
  const variable = sharedServerVariable(kind);
  const url = process.env[variable];
  // Suites use only `url` and `stop()` of a server.
  if (url !== undefined) return { url, stop: async () => {} } as unknown as RunningServer;
  const server = await start();
  process.env[variable] = server.url;
  return {
    ...server,
    stop: async () => {
      delete process.env[variable];
      await server.stop();
    },
  };
}

/** Starts a throwaway redis-server on a free loopback port (no persistence). */
export function startRedis(): Promise<RunningServer> {
  return startShared('redis', () => startServer(requireServer(redisServerSpec())));
}

/** Starts a throwaway memcached on a free loopback port, with room for 10,000 locks. */
export function startMemcached(): Promise<RunningServer> {
  return startShared('memcached', () =>
    startServer(requireServer(memcachedServerSpec(() => ['-m', '256']))),
  );
}

/** Starts a throwaway single-member etcd (data on tmpfs where there is one, fsync on). */
export async function startEtcd(): Promise<RunningServer> {
  return startShared('etcd', async () => {
    const server = await startServer(requireServer(etcdServerSpec()));
    return { ...server, url: server.url.replace('http://', 'etcd://') };
  });
}

/** `spec`, once it is sure to start here: as a local process, or in a container. */
function requireServer(spec: ServerSpec): ServerSpec {
  if (!canStartServer(spec))
    throw new Error(
      `${spec.command} is not installed (scripts/install-test-servers.sh installs it) and no Docker engine runs the test servers (LOCK_TEST_SERVERS)`,
    );
  return spec;
}
