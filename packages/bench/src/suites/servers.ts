import {
  canStartServer,
  etcdServerSpec,
  memcachedServerSpec,
  type RunningServer,
  redisServerSpec,
  type ServerSpec,
  startServer,
} from '@lock/testkit/servers';

/** Starts a throwaway redis-server on a free loopback port (no persistence). */
export function startRedis(): Promise<RunningServer> {
  return startServer(requireServer(redisServerSpec()));
}

/** Starts a throwaway memcached on a free loopback port, with room for 10,000 locks. */
export function startMemcached(): Promise<RunningServer> {
  return startServer(requireServer(memcachedServerSpec(() => ['-m', '256'])));
}

/** Starts a throwaway single-member etcd (data on tmpfs where there is one, fsync on). */
export async function startEtcd(): Promise<RunningServer> {
  const server = await startServer(requireServer(etcdServerSpec()));
  return { ...server, url: server.url.replace('http://', 'etcd://') };
}

/** `spec`, once it is sure to start here: as a local process, or in a container. */
function requireServer(spec: ServerSpec): ServerSpec {
  if (!canStartServer(spec))
    throw new Error(
      `${spec.command} is not installed (scripts/install-test-servers.sh installs it) and no Docker engine runs the test servers (LOCK_TEST_SERVERS)`,
    );
  return spec;
}
