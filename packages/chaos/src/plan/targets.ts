import { join } from 'node:path';
import {
  etcdServerSpec,
  freePort,
  memcachedServerSpec,
  redisServerSpec,
  type ServerSpec,
} from '@lock/testkit/servers';
import { type EtcdMemberAddress, etcdMemberSpecs, etcdStatus } from '../harness/etcd-members.js';
import { exec } from '../harness/exec.js';
import type { NetLab } from '../harness/netlab.js';
import type { ServerLaunch } from '../harness/server-process.js';
import type { BackendConfig } from '../worker/protocol.js';

/** The backends (and topologies) the suite runs on. The document stores slot in here. */
export type TargetName = 'local' | 'redis' | 'redlock' | 'memcached' | 'etcd' | 'etcd-cluster';

/** How a scenario wants the servers started. */
export interface ServerOptions {
  /** Redis with AOF `appendfsync always` (etcd always persists). */
  readonly persistent?: boolean;
  /** A small memory limit that makes the server evict (Redis `allkeys-random`, memcached `-m 2`). */
  readonly memoryLimited?: boolean;
  /** Servers in network namespaces of their own (partitions by iptables). */
  readonly netns?: boolean;
}

/** Where clients reach one server. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** A backend as the suite runs it: servers, client options, and the time bounds that follow. */
export interface TargetDef {
  readonly name: TargetName;
  readonly title: string;
  /** Binaries the target needs on PATH. */
  readonly commands: readonly string[];
  /** The TTL workers lock with (ms). */
  readonly ttlMs: number;
  /** Longest the server may keep a lock after the write that set its TTL (rounding, expiry loops). */
  readonly serverTtlMs: number;
  /** The same for a lock taken with `ttlMs`. */
  serverTtlFor(ttlMs: number): number;
  /** Longest a waiter sleeps before it notices a free lock (its poll / queue re-check). */
  readonly retryMs: number;
  /** The deadline the backend promises for one call (the options below make it so). */
  readonly opBoundMs: number;
  /** Core's `retry.pollInterval` for waiters on this backend. */
  readonly pollIntervalMs: number;
  /** Servers of one run, given a scratch folder; none for the in-process backend. */
  launches(
    runDir: string,
    options: ServerOptions,
    lab: NetLab | undefined,
  ): Promise<ServerLaunch[]>;
  /** The port clients use on server `i`'s launch. */
  clientPort(launch: ServerLaunch): number;
  /** A worker's backend config, given where it reaches each server. */
  backend(prefix: string, endpoints: readonly Endpoint[]): BackendConfig;
}

const REDIS_OPTIONS = {
  connectTimeout: 1_000,
  commandTimeout: 1_000,
  queuePollInterval: 500,
  queueEntryTtl: 1_000,
} as const;

/** Extra redis-server arguments for a scenario's needs. */
function redisExtra(options: ServerOptions, host: string | undefined): (dir: string) => string[] {
  return () => [
    ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : []),
    // allkeys-random, not -lru: the locks are the most used keys, so LRU would spare them and
    // the scenario would show nothing; random eviction takes locks as a real policy can.
    ...(options.memoryLimited
      ? ['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-random']
      : []),
    ...(host === undefined ? [] : ['--bind', host, '--protected-mode', 'no']),
  ];
}

async function redisLaunches(
  count: number,
  runDir: string,
  options: ServerOptions,
  lab: NetLab | undefined,
): Promise<ServerLaunch[]> {
  const launches: ServerLaunch[] = [];
  for (let i = 0; i < count; i++) {
    const host = lab?.ip(i);
    const port = lab === undefined ? await freePort() : 6379;
    const spec = redisServerSpec(redisExtra(options, host));
    launches.push({
      label: count === 1 ? 'redis' : `redis-${i + 1}`,
      spec,
      ports: [port],
      dir: join(runDir, `redis-${i + 1}`),
      netns: lab?.nodes[i],
      ready:
        lab === undefined
          ? undefined
          : async () =>
              (
                await exec(
                  'ip',
                  [
                    'netns',
                    'exec',
                    lab.hub,
                    'redis-cli',
                    '-h',
                    host as string,
                    '-p',
                    String(port),
                    'ping',
                  ],
                  2_000,
                )
              ).stdout.trim() === 'PONG',
    });
  }
  return launches;
}

const local: TargetDef = {
  name: 'local',
  title: 'local (in-process)',
  commands: [],
  ttlMs: 1_000,
  serverTtlMs: 1_000,
  serverTtlFor: (ttl) => ttl,
  retryMs: 500,
  // The in-process store answers at once; its calls are slow only while the nemesis makes
  // them hang (at most 2.5 s in any scenario).
  opBoundMs: 3_000,
  pollIntervalMs: 500,
  launches: async () => [],
  clientPort: () => 0,
  backend: (prefix) => ({ kind: 'local', prefix }),
};

const redis: TargetDef = {
  name: 'redis',
  title: 'Redis (single)',
  commands: ['redis-server', 'redis-cli'],
  ttlMs: 1_000,
  serverTtlMs: 1_000,
  serverTtlFor: (ttl) => ttl,
  // A waiter re-checks its queue place every 500 ms; a dead waiter's place lapses after 1 s.
  retryMs: REDIS_OPTIONS.queuePollInterval + REDIS_OPTIONS.queueEntryTtl,
  opBoundMs: REDIS_OPTIONS.connectTimeout + REDIS_OPTIONS.commandTimeout,
  pollIntervalMs: 500,
  launches: (runDir, options, lab) => redisLaunches(1, runDir, options, lab),
  clientPort: (launch) => launch.ports[0] as number,
  backend: (prefix, [endpoint]) => ({
    kind: 'redis',
    prefix,
    url: `redis://${endpoint?.host}:${endpoint?.port}`,
    options: REDIS_OPTIONS,
  }),
};

const redlock: TargetDef = {
  name: 'redlock',
  title: 'Redlock (3 Redis)',
  commands: ['redis-server', 'redis-cli'],
  ttlMs: 1_000,
  serverTtlMs: 1_000,
  serverTtlFor: (ttl) => ttl,
  retryMs: 500,
  opBoundMs: 2_000,
  pollIntervalMs: 500,
  launches: (runDir, options, lab) => redisLaunches(3, runDir, options, lab),
  clientPort: (launch) => launch.ports[0] as number,
  backend: (prefix, endpoints) => ({
    kind: 'redlock',
    prefix,
    nodes: endpoints.map((e) => `redis://${e.host}:${e.port}`),
    options: { connectTimeout: 1_000, commandTimeout: 300 },
  }),
};

const memcached: TargetDef = {
  name: 'memcached',
  title: 'memcached',
  commands: ['memcached'],
  // Whole seconds: memcached stores ceil(2) + 1 = 3 s, and expires on its one-second tick.
  ttlMs: 2_000,
  serverTtlMs: 4_000,
  serverTtlFor: (ttl) => (Math.ceil(ttl / 1_000) + 1) * 1_000 + 1_000,
  retryMs: 100,
  // One request (up to two: a read first) of at most operationTimeout each.
  opBoundMs: 3_000,
  pollIntervalMs: 500,
  launches: async (runDir, options) => [
    {
      label: 'memcached',
      spec: memcachedServerSpec(() => (options.memoryLimited ? ['-m', '2'] : [])),
      ports: [await freePort()],
      dir: join(runDir, 'memcached'),
    },
  ],
  clientPort: (launch) => launch.ports[0] as number,
  backend: (prefix, endpoints) => ({
    kind: 'memcached',
    prefix,
    servers: endpoints.map((e) => `${e.host}:${e.port}`),
    options: {
      timeout: 500,
      connectTimeout: 1_000,
      retries: 1,
      retry: 100,
      operationTimeout: 1_500,
    },
  }),
};

const ETCD_OPTIONS = {
  dialTimeoutMs: 1_000,
  requestTimeoutMs: 1_500,
  queuePollIntervalMs: 1_000,
} as const;

const etcd: TargetDef = {
  name: 'etcd',
  title: 'etcd (single)',
  commands: ['etcd'],
  ttlMs: 1_000,
  // A 1 s lease, revoked by etcd's 500 ms expiry loop.
  serverTtlMs: 1_500,
  serverTtlFor: (ttl) => Math.ceil(ttl / 1_000) * 1_000 + 500,
  retryMs: ETCD_OPTIONS.queuePollIntervalMs,
  opBoundMs: 3_000,
  pollIntervalMs: 500,
  launches: async (runDir) => {
    const spec: ServerSpec = etcdServerSpec();
    return [
      {
        label: 'etcd',
        spec,
        ports: [await freePort(), await freePort()],
        dir: join(spec.scratchRoot ?? runDir, `lock-chaos-etcd-${process.pid}-${Date.now()}`),
      },
    ];
  },
  clientPort: (launch) => launch.ports[0] as number,
  backend: (prefix, endpoints) => ({
    kind: 'etcd',
    prefix,
    hosts: endpoints.map((e) => `http://${e.host}:${e.port}`),
    options: ETCD_OPTIONS,
  }),
};

const etcdCluster: TargetDef = {
  name: 'etcd-cluster',
  title: 'etcd (3 members)',
  commands: ['etcd'],
  ttlMs: 1_000,
  // A new leader gives every lease a full TTL again: up to one more TTL after a failover.
  serverTtlMs: 2_500,
  serverTtlFor: (ttl) => 2 * Math.ceil(ttl / 1_000) * 1_000 + 500,
  retryMs: ETCD_OPTIONS.queuePollIntervalMs,
  opBoundMs: 3_000,
  pollIntervalMs: 500,
  launches: async (runDir, _options, lab) => {
    const members: EtcdMemberAddress[] = [];
    for (let i = 0; i < 3; i++) {
      members.push(
        lab === undefined
          ? { host: '127.0.0.1', clientPort: await freePort(), peerPort: await freePort() }
          : { host: lab.ip(i), clientPort: 2379, peerPort: 2380 },
      );
    }
    const specs = etcdMemberSpecs(members, `lock-chaos-${process.pid}-${Date.now()}`);
    return specs.map((spec, i) => {
      const member = members[i] as EtcdMemberAddress;
      const endpoint = `http://${member.host}:${member.clientPort}`;
      return {
        label: `etcd-n${i + 1}`,
        spec,
        ports: [member.clientPort, member.peerPort],
        dir: join(
          spec.scratchRoot ?? runDir,
          `lock-chaos-etcd-${process.pid}-${Date.now()}-n${i + 1}`,
        ),
        netns: lab?.nodes[i],
        // A member is healthy only with quorum; during start-up a status answer is enough.
        ready: async () => (await etcdStatus(endpoint, lab?.hub)).memberId !== '',
      };
    });
  },
  clientPort: (launch) => launch.ports[0] as number,
  backend: (prefix, endpoints) => ({
    kind: 'etcd',
    prefix,
    hosts: endpoints.map((e) => `http://${e.host}:${e.port}`),
    options: ETCD_OPTIONS,
  }),
};

/** Every target, in report order. */
export const TARGETS: readonly TargetDef[] = [local, redis, redlock, memcached, etcd, etcdCluster];

/** The target called `name`. */
export function targetNamed(name: string): TargetDef {
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined) {
    throw new Error(`unknown backend "${name}": one of ${TARGETS.map((t) => t.name).join(', ')}`);
  }
  return target;
}
