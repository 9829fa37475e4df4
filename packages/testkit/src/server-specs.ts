import { existsSync } from 'node:fs';
import { etcdContainer, memcachedContainer, redisContainer } from './container-images.js';
import type { ServerSpec } from './harness.js';
import { memcachedAnswers, redisAnswers } from './server-checks.js';

/** A tmpfs folder for servers that fsync (etcd 3.4 cannot skip it), when this machine has one. */
export const tmpfsRoot: string | undefined = existsSync('/dev/shm') ? '/dev/shm' : undefined;

/** Extra command-line arguments for a server, given its scratch folder. */
export type ExtraArgs = (dir: string) => string[];

/**
 * A redis-server on a free loopback port, no persistence; ready when `PING` answers. In a
 * container: `LOCK_TEST_REDIS_IMAGE`, or Docker's official image.
 */
export function redisServerSpec(extraArgs: ExtraArgs = () => []): ServerSpec {
  return {
    name: 'REDIS',
    command: 'redis-server',
    container: redisContainer,
    args: ([port], dir, listenHost = '127.0.0.1') => [
      '--port',
      String(port),
      '--bind',
      listenHost,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      // Behind a published port, clients come from the container's bridge, not its loopback:
      // protected mode would refuse them (only the official image turns it off by default).
      ...(listenHost === '127.0.0.1' ? [] : ['--protected-mode', 'no']),
      ...extraArgs(dir),
    ],
    url: ([port]) => `redis://127.0.0.1:${port}`,
    // NOAUTH also proves the server answers (servers started with a password).
    ready: ([port]) => redisAnswers(port as number),
    installHint: 'apt-get install redis-server',
  };
}

/**
 * A memcached on a free loopback port (TCP only); ready when it answers `VERSION`. In a
 * container: `LOCK_TEST_MEMCACHED_IMAGE`, or Docker's official image.
 */
export function memcachedServerSpec(extraArgs: ExtraArgs = () => []): ServerSpec {
  return {
    name: 'MEMCACHED',
    command: 'memcached',
    container: memcachedContainer,
    args: ([port], dir, listenHost = '127.0.0.1') => [
      '-l',
      listenHost,
      '-p',
      String(port),
      '-U',
      '0',
      '-m',
      '64',
      '-u',
      'root',
      ...extraArgs(dir),
    ],
    url: ([port]) => `memcached://127.0.0.1:${port}`,
    ready: ([port]) => memcachedAnswers(port as number),
    installHint: 'apt-get install memcached',
  };
}

/**
 * A single-member etcd on two free loopback ports (client, peer), its data on tmpfs when there
 * is one (etcd 3.4 cannot skip fsync), with a short election timeout so the smallest lease is
 * 1 s. `url` is the plain `http://` client endpoint; ready when `/health` says so. In a
 * container (data on its tmpfs): `LOCK_TEST_ETCD_IMAGE`, or the etcd project's image.
 */
export function etcdServerSpec(extraArgs: ExtraArgs = () => []): ServerSpec {
  return {
    name: 'ETCD',
    command: 'etcd',
    container: etcdContainer,
    ports: 2,
    ...(tmpfsRoot === undefined ? {} : { scratchRoot: tmpfsRoot }),
    args: ([client, peer], dir, listenHost = '127.0.0.1') => [
      '--name',
      'n1',
      '--data-dir',
      `${dir}/data`,
      '--listen-client-urls',
      `http://${listenHost}:${client}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${client}`,
      '--listen-peer-urls',
      `http://${listenHost}:${peer}`,
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
      ...extraArgs(dir),
    ],
    url: ([client]) => `http://127.0.0.1:${client}`,
    ready: async ([client]) => {
      const reply = await fetch(`http://127.0.0.1:${client}/health`).catch(() => undefined);
      return reply?.ok === true && (await reply.text()).includes('"health":"true"');
    },
    installHint: 'apt-get install etcd-server etcd-client',
  };
}
