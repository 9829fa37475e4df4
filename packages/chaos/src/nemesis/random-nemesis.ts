import type { TargetName } from '../plan/targets.js';
import type { RunContext } from '../run/run-context.js';
import {
  allServers,
  dropRepliesOfOne,
  gap,
  killHolder,
  leaderOrAny,
  partitionHolder,
  pauseHolder,
  slowThenCutHolder,
} from './moves.js';

/** One kind of fault the random nemesis can pick. */
interface Move {
  readonly name: string;
  readonly targets: readonly TargetName[] | 'all';
  run(context: RunContext): Promise<void>;
}

const NETWORKED: readonly TargetName[] = ['redis', 'redlock', 'memcached', 'etcd', 'etcd-cluster'];

/**
 * The catalogue the random nemesis mixes. Restarts that lose data are left out (on Redis and
 * memcached they allow overlaps by design, which would hide real bugs); the random run starts
 * Redis with persistence so that its restarts keep data.
 */
const MOVES: readonly Move[] = [
  {
    name: 'pause a holder past its TTL',
    targets: NETWORKED,
    run: (c) => pauseHolder(c, c.topology.target.serverTtlMs + c.random.int(200, 1_000)),
  },
  {
    name: 'pause a holder briefly',
    targets: NETWORKED,
    run: (c) => pauseHolder(c, c.random.int(20, c.ttlMs / 6)),
  },
  { name: 'kill a holder', targets: NETWORKED, run: (c) => killHolder(c) },
  {
    name: 'pause a server past the TTL',
    targets: NETWORKED,
    run: (c) =>
      c.pauseServer(
        c.random.int(0, c.topology.servers.length - 1),
        c.random.int(c.ttlMs, 2 * c.ttlMs),
      ),
  },
  {
    name: 'restart a server keeping its data',
    targets: ['redis', 'etcd', 'etcd-cluster'],
    run: (c) =>
      c.restartServer(c.random.int(0, c.topology.servers.length - 1), {
        keepData: true,
        downMs: c.random.int(50, 800),
      }),
  },
  {
    name: 'cut a holder off',
    targets: NETWORKED,
    run: (c) => partitionHolder(c, c.random.int(c.ttlMs, 3 * c.ttlMs)),
  },
  {
    name: 'drop replies to one worker',
    targets: NETWORKED,
    run: (c) => dropRepliesOfOne(c, c.random.int(200, 2_000)),
  },
  {
    name: 'slow replies to a holder, then cut it off',
    targets: NETWORKED,
    run: (c) =>
      slowThenCutHolder(
        c,
        c.random.int(50, 300),
        c.random.int(300, 1_000),
        c.random.int(c.ttlMs, 2 * c.ttlMs),
      ),
  },
  {
    name: 'delay one server for everyone',
    targets: NETWORKED,
    run: (c) =>
      c.proxyFault(
        c.workerNames(),
        [c.random.int(0, c.topology.servers.length - 1)],
        { kind: 'delay', upMs: c.random.int(0, 200), downMs: c.random.int(0, 200) },
        c.random.int(500, 2_000),
      ),
  },
  {
    name: 'reset every connection',
    targets: NETWORKED,
    run: (c) =>
      c.proxyFault(c.workerNames(), allServers(c), { kind: 'reset' }, c.random.int(10, 200)),
  },
  {
    name: 'stop the etcd leader',
    targets: ['etcd-cluster'],
    run: async (c) =>
      c.restartServer(await leaderOrAny(c), { keepData: true, downMs: c.random.int(200, 1_500) }),
  },
  { name: 'compact etcd', targets: ['etcd', 'etcd-cluster'], run: (c) => c.compact() },
  {
    name: 'fail a worker’s renewals (in process)',
    targets: ['local'],
    run: (c) =>
      c.inProcessFault(c.random.pick(c.actorNames()), 'fail', ['extend'], c.random.int(200, 2_500)),
  },
  {
    name: 'hang a worker’s calls (in process)',
    targets: ['local'],
    run: (c) =>
      c.inProcessFault(
        c.random.pick(c.actorNames()),
        'hang',
        ['extend', 'release'],
        c.random.int(200, 2_500),
      ),
  },
];

/** Mixes the faults that apply to the run's target at random times until the run's time is up. */
export async function randomNemesis(context: RunContext): Promise<void> {
  const target = context.topology.target.name;
  const moves = MOVES.filter((move) => move.targets === 'all' || move.targets.includes(target));
  while (await gap(context, 100, 1_200)) {
    const move = context.random.pick(moves);
    context.note(`random: ${move.name}`, target);
    await move.run(context);
  }
}
