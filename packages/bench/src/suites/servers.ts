import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { canConnect, hasCommand, type RunningServer, startServer } from '@lock/testkit/servers';

/** Starts a throwaway redis-server on a free loopback port (no persistence). */
export function startRedis(): Promise<RunningServer> {
  requireCommand('redis-server');
  return startServer({
    name: 'REDIS',
    command: 'redis-server',
    args: ([port]) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    url: ([port]) => `redis://127.0.0.1:${port}`,
    installHint: 'apt-get install redis-server',
  });
}

/** Starts a throwaway memcached on a free loopback port. */
export function startMemcached(): Promise<RunningServer> {
  requireCommand('memcached');
  return startServer({
    name: 'MEMCACHED',
    command: 'memcached',
    args: ([port]) => ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '256', '-u', 'root'],
    url: ([port]) => `memcached://127.0.0.1:${port}`,
    installHint: 'apt-get install memcached',
  });
}

/** Starts a throwaway single-member etcd (data on tmpfs, fsync on as in production). */
export function startEtcd(): Promise<RunningServer> {
  requireCommand('etcd');
  return startServer({
    name: 'ETCD',
    command: 'etcd',
    ports: 2,
    // etcd 3.4 cannot skip fsync: keep its data on tmpfs so the disk's noise stays out of the run.
    args: ([client, peer], dir) => [
      '--name',
      'n1',
      '--data-dir',
      existsSync('/dev/shm') ? `/dev/shm/${basename(dir)}-etcd` : `${dir}/data`,
      '--listen-client-urls',
      `http://127.0.0.1:${client}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${client}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-cluster',
      `n1=http://127.0.0.1:${peer}`,
      '--initial-cluster-state',
      'new',
      '--heartbeat-interval',
      '25',
      '--election-timeout',
      '250',
      '--log-level',
      'warn',
    ],
    url: ([client]) => `etcd://127.0.0.1:${client}`,
    ready: async ([client]) => {
      if (!(await canConnect(client as number))) return false;
      const response = await fetch(`http://127.0.0.1:${client}/health`).catch(() => undefined);
      return (await response?.text())?.includes('"health":"true"') ?? false;
    },
    installHint: 'apt-get install etcd-server',
  });
}

function requireCommand(command: string): void {
  if (!hasCommand(command))
    throw new Error(`${command} is not installed (scripts/install-test-servers.sh installs it)`);
}
