import {
  etcdServerSpec,
  hasCommand,
  memcachedServerSpec,
  type RunningServer,
  redisServerSpec,
  startServer,
} from '@lock/testkit/servers';

/** Starts a throwaway redis-server on a free loopback port (no persistence). */
export function startRedis(): Promise<RunningServer> {
  requireCommand('redis-server');
  return startServer(redisServerSpec());
}

/** Starts a throwaway memcached on a free loopback port, with room for 10,000 locks. */
export function startMemcached(): Promise<RunningServer> {
  requireCommand('memcached');
  return startServer(memcachedServerSpec(() => ['-m', '256']));
}

/** Starts a throwaway single-member etcd (data on tmpfs where there is one, fsync on). */
export async function startEtcd(): Promise<RunningServer> {
  requireCommand('etcd');
  const server = await startServer(etcdServerSpec());
  return { ...server, url: server.url.replace('http://', 'etcd://') };
}

function requireCommand(command: string): void {
  if (!hasCommand(command))
    throw new Error(`${command} is not installed (scripts/install-test-servers.sh installs it)`);
}
