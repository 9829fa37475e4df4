import {
  allServers,
  dropRepliesOfOne,
  gap,
  killHolder,
  leaderOrAny,
  partitionHolder,
  pauseHolder,
  slowThenCutHolder,
} from '../nemesis/moves.js';
import { randomNemesis } from '../nemesis/random-nemesis.js';
import type { Workload } from '../worker/protocol.js';
import type { KnownLimit, ScenarioDef } from './scenario.js';
import type { TargetDef, TargetName } from './targets.js';

const NETWORKED: readonly TargetName[] = ['redis', 'redlock', 'memcached', 'etcd', 'etcd-cluster'];

/** Holds that outlast a TTL, so that a holder cut off mid-hold has to notice its loss. */
const longHolds = (base: Workload, target: TargetDef): Workload => ({
  ...base,
  holdMs: [target.ttlMs, 3 * target.ttlMs],
});

/** What a restart without persistence costs on stores that keep locks in memory only. */
const VOLATILE_RESTART: KnownLimit = {
  checkers: ['overlap', 'fences', 'loss-timing'],
  reason:
    'a restart without persistence forgets every lock (and on Redis the fence counters): another client can take a lock whose holder still works until its next renewal is refused (README: failure modes)',
};

/** What eviction costs: the store may drop a held lock. */
const EVICTION: KnownLimit = {
  checkers: ['overlap', 'fences', 'loss-timing'],
  reason:
    'an evicted lock can be taken by another client before its holder’s next renewal is refused; the README tells users to prevent eviction (noeviction, -M, memory)',
};

/** Every scenario, in report order. */
export const SCENARIOS: readonly ScenarioDef[] = [
  {
    id: 'contention',
    summary: 'Four workers contend for two keys with no fault at all.',
    targets: ['local', ...NETWORKED],
    durationMs: 6_000,
    lossExpected: false,
    handoverBoundMs: 1_000,
    nemesis: async (c) => {
      await c.sleep(Number.POSITIVE_INFINITY);
    },
  },
  {
    id: 'holder-pause-long',
    summary:
      'A holder’s process is stopped (SIGSTOP) past its TTL, then resumed; others take over.',
    targets: NETWORKED,
    durationMs: 10_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 200, 800)) {
        await pauseHolder(c, c.topology.target.serverTtlMs + c.random.int(300, 1_000));
      }
    },
  },
  {
    id: 'holder-pause-short',
    summary: 'A holder’s process is stopped for at most an eighth of its TTL: no lock may be lost.',
    targets: NETWORKED,
    durationMs: 8_000,
    lossExpected: false,
    nemesis: async (c) => {
      while (await gap(c, 100, 500)) await pauseHolder(c, c.random.int(20, c.ttlMs / 8));
    },
  },
  {
    id: 'server-pause',
    summary:
      'The server (Redlock: two of three nodes; etcd cluster: the leader) is stopped past the TTL, then resumed.',
    targets: NETWORKED,
    durationMs: 10_000,
    lossExpected: true,
    workload: longHolds,
    nemesis: async (c) => {
      const name = c.topology.target.name;
      while (await gap(c, 500, 1_500)) {
        // Past the TTL, and past the backend's call deadline, so a call that trusts the
        // driver's timeout (which stops counting once a command is written) shows.
        const target = c.topology.target;
        const least = Math.max(target.serverTtlMs + 200, target.opBoundMs + 500);
        const ms = c.random.int(least, least + 1_500);
        if (name === 'redlock') {
          const spared = c.random.int(0, 2);
          await Promise.all(
            allServers(c)
              .filter((i) => i !== spared)
              .map((i) => c.pauseServer(i, ms)),
          );
        } else if (name === 'etcd-cluster') {
          await c.pauseServer(await leaderOrAny(c), ms);
        } else {
          await c.pauseServer(0, ms);
        }
      }
    },
  },
  {
    id: 'restart-volatile',
    summary:
      'The server (Redlock: one node) crashes and restarts without its data: the overlaps this allows are counted as the documented limit.',
    targets: ['redis', 'redlock', 'memcached'],
    durationMs: 10_000,
    lossExpected: true,
    knownLimits: {
      redis: VOLATILE_RESTART,
      redlock: VOLATILE_RESTART,
      memcached: VOLATILE_RESTART,
    },
    nemesis: async (c) => {
      while (await gap(c, 1_000, 2_500)) {
        await c.restartServer(c.random.int(0, c.topology.servers.length - 1), {
          keepData: false,
          downMs: c.random.int(50, 300),
        });
      }
    },
  },
  {
    id: 'restart-persistent',
    summary:
      'The server crashes (SIGKILL) and restarts with its data (Redis: AOF appendfsync always; etcd): zero overlaps.',
    targets: ['redis', 'etcd'],
    durationMs: 10_000,
    servers: { persistent: true },
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 1_000, 2_500)) {
        await c.restartServer(0, { keepData: true, downMs: c.random.int(50, 300) });
      }
    },
  },
  {
    id: 'holder-partition',
    summary:
      'A holder is silently cut off from every server (its connections stay open, nothing passes).',
    targets: NETWORKED,
    durationMs: 10_000,
    lossExpected: true,
    workload: longHolds,
    nemesis: async (c) => {
      while (await gap(c, 300, 1_000)) {
        await partitionHolder(
          c,
          c.random.int(
            c.topology.target.serverTtlMs + 300,
            2 * c.topology.target.serverTtlMs + 500,
          ),
        );
      }
    },
  },
  {
    id: 'drop-replies',
    summary:
      'Every reply to one worker is dropped for a while: its requests land, their outcomes are unknown.',
    targets: NETWORKED,
    durationMs: 10_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 200, 800)) await dropRepliesOfOne(c, c.random.int(300, 2_000));
    },
  },
  {
    id: 'slow-then-cut',
    summary:
      'Replies to a holder come late (its renewals confirm late), then it is cut off: validity must count from sends.',
    targets: NETWORKED,
    durationMs: 10_000,
    lossExpected: true,
    workload: (base, target) => ({
      ...longHolds(base, target),
      keys: ['k1'],
      holdMs: [3 * target.ttlMs, 5 * target.ttlMs],
    }),
    nemesis: async (c) => {
      while (await gap(c, 200, 600)) {
        // Slow for long enough that renewals confirm late at least twice before the cut.
        await slowThenCutHolder(
          c,
          c.random.int(200, 300),
          c.random.int(1_200, 1_600),
          2 * c.topology.target.serverTtlMs,
        );
      }
    },
  },
  {
    id: 'delayed-release',
    summary:
      'A holder’s release (and anything it sends with it) is held back in the network past the TTL, then lands.',
    targets: NETWORKED,
    durationMs: 10_000,
    lossExpected: true,
    workload: (base, target) => ({
      ...base,
      keys: ['k1'],
      delayedRelease: { ratio: 0.5, delayMs: target.serverTtlMs + 300 },
    }),
    nemesis: async (c) => {
      await c.sleep(Number.POSITIVE_INFINITY);
    },
  },
  {
    id: 'keepalive-extend-race',
    summary:
      'Right after a keepalive renewal leaves, the holder extends with a shorter TTL, then is cut off (local: its renewals fail).',
    targets: ['local', ...NETWORKED],
    durationMs: 10_000,
    lossExpected: true,
    workload: (base, target) => ({
      ...base,
      ttlMs: 2 * target.ttlMs,
      holdMs: [target.ttlMs, 2 * target.ttlMs],
      extendRace: {
        shortTtlMs: target.ttlMs / 2,
        cutOffMs: 3 * target.ttlMs,
        holdAfterMs: 2 * target.ttlMs,
      },
    }),
    nemesis: async (c) => {
      await c.sleep(Number.POSITIVE_INFINITY);
    },
  },
  {
    id: 'renewals-failing',
    summary: 'A worker’s renewals fail or hang (in process) for longer than the TTL.',
    targets: ['local'],
    durationMs: 8_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 200, 700)) {
        const holder = await c.waitForHolder();
        if (holder === undefined) continue;
        const fault = c.random.chance(0.5) ? 'fail' : 'hang';
        await c.inProcessFault(
          holder.actor,
          fault,
          ['extend'],
          c.random.int(c.ttlMs + 200, 2 * c.ttlMs),
        );
      }
    },
  },
  {
    id: 'holder-kill',
    summary:
      'A holder is killed (SIGKILL) and replaced; the next holder must come within [TTL − 100 ms, server TTL + retry + 1 s].',
    targets: NETWORKED,
    durationMs: 14_000,
    lossExpected: true,
    takeover: true,
    nemesis: async (c) => {
      while (await gap(c, 300, 800)) {
        await killHolder(c);
        if (!(await c.sleep(c.topology.target.serverTtlMs + c.topology.target.retryMs + 1_200)))
          return;
      }
    },
  },
  {
    id: 'slow-node',
    summary: 'One Redlock node answers everyone late (100–300 ms each way) for a while.',
    targets: ['redlock'],
    durationMs: 10_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 200, 800)) {
        await c.proxyFault(
          c.workerNames(),
          [c.random.int(0, 2)],
          { kind: 'delay', upMs: c.random.int(100, 300), downMs: c.random.int(100, 300) },
          c.random.int(1_500, 3_000),
        );
      }
    },
  },
  {
    id: 'node-partition',
    summary:
      'Each worker loses a different Redlock node for a while (split views), so quorums differ between workers.',
    targets: ['redlock'],
    durationMs: 10_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 200, 800)) {
        const ms = c.random.int(1_000, 3_000);
        await Promise.all(
          c
            .workerNames()
            .map((worker) =>
              c.proxyFault([worker], [c.random.int(0, 2)], { kind: 'blackhole' }, ms),
            ),
        );
      }
    },
  },
  {
    id: 'node-partition-netns',
    summary:
      'Redlock nodes in network namespaces of their own; one is cut off from every client by iptables for a while.',
    targets: ['redlock'],
    durationMs: 10_000,
    servers: { netns: true },
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 300, 1_000)) {
        await c.cutServerFromClients(c.random.int(0, 2), c.random.int(1_000, 3_000));
      }
    },
  },
  {
    id: 'leader-stop',
    summary: 'The etcd leader crashes (SIGKILL) and restarts with its data after a while.',
    targets: ['etcd-cluster'],
    durationMs: 12_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 800, 2_000)) {
        await c.restartServer(await leaderOrAny(c), {
          keepData: true,
          downMs: c.random.int(300, 1_500),
        });
      }
    },
  },
  {
    id: 'member-restart',
    summary: 'A random etcd member crashes and restarts with its data.',
    targets: ['etcd-cluster'],
    durationMs: 10_000,
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 500, 1_500)) {
        await c.restartServer(c.random.int(0, 2), {
          keepData: true,
          downMs: c.random.int(100, 800),
        });
      }
    },
  },
  {
    id: 'member-partition',
    summary:
      'etcd members in network namespaces of their own; the leader (or a follower) is cut off from the other members by iptables.',
    targets: ['etcd-cluster'],
    durationMs: 12_000,
    servers: { netns: true },
    lossExpected: true,
    nemesis: async (c) => {
      while (await gap(c, 800, 2_000)) {
        const isolated = c.random.chance(0.7) ? await leaderOrAny(c) : c.random.int(0, 2);
        const others = allServers(c).filter((i) => i !== isolated);
        await c.partitionServers([isolated], others, c.random.int(1_000, 3_000));
      }
    },
  },
  {
    id: 'compaction',
    summary:
      'Waiters queue on one key while etcd compacts its history, right after every watch stream was broken.',
    targets: ['etcd', 'etcd-cluster'],
    durationMs: 12_000,
    lossExpected: true,
    handoverBoundMs: 1_000,
    workload: (base) => ({
      ...base,
      keys: ['k1'],
      holdMs: [20, 150],
      thinkMs: [0, 20],
      tryLockRatio: 0,
    }),
    nemesis: async (c) => {
      while (await gap(c, 200, 600)) {
        await c.proxyFault(c.workerNames(), allServers(c), { kind: 'reset' }, c.random.int(10, 50));
        await c.compact();
        // A quiet spell, so that hand-overs after the compaction are judged.
        if (!(await c.sleep(c.random.int(2_500, 3_500)))) return;
        await c.compact();
      }
    },
  },
  {
    id: 'eviction',
    summary:
      'The server runs out of memory and evicts (Redis allkeys-random, memcached LRU) while locks are held; evictions, the overlaps they allow and the warnings given are reported.',
    targets: ['redis', 'memcached'],
    durationMs: 10_000,
    servers: { memoryLimited: true },
    lossExpected: true,
    knownLimits: { redis: EVICTION, memcached: EVICTION },
    nemesis: async (c) => {
      const { MemoryFiller, readEvictions } = await import('../harness/memory-filler.js');
      const protocol = c.topology.target.name === 'redis' ? 'redis' : 'memcached';
      const port = c.topology.endpoint(0).port;
      const filler = await MemoryFiller.connect(port, protocol);
      c.note('fill memory', c.topology.servers[0]?.launch.label ?? '');
      // memcached: faster than the locks' renewals (each of which rewrites the item) can keep
      // them at the head of their slab class's LRU.
      filler.start(protocol === 'redis' ? 20 : 2_000);
      await c.sleep(Number.POSITIVE_INFINITY);
      filler.stop();
      c.figures['evictions'] = await readEvictions(port, protocol);
    },
  },
  {
    id: 'random',
    summary:
      'The random nemesis: pauses, kills, restarts that keep data, partitions, lost and slow replies, resets, compactions, mixed by the seed.',
    targets: ['local', ...NETWORKED],
    durationMs: 15_000,
    servers: { persistent: true },
    lossExpected: true,
    nemesis: randomNemesis,
  },
];

/** The scenario called `id`. */
export function scenarioNamed(id: string): ScenarioDef {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (scenario === undefined) {
    throw new Error(`unknown scenario "${id}": one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
  }
  return scenario;
}
