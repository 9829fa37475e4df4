import { freePort, type RunningServer, startServer, tmpfsRoot } from '@lock/testkit';
import { ETCD_PROCESS } from './etcd-server.js';

/** A three-member etcd cluster on loopback, started together (a member is healthy only with quorum). */
export interface Cluster {
  readonly members: RunningServer[];
  readonly urls: string[];
  /** Stops every member still running, fast (SIGKILL: a member without quorum exits slowly). */
  stop(): Promise<void>;
}

/** Starts `n1..n3` with one shared `--initial-cluster` and `--initial-cluster-token`. */
export async function startCluster(): Promise<Cluster> {
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const peerPorts = [await freePort(), await freePort(), await freePort()];
  const token = `lock-test-${process.pid}-${Date.now()}`;
  const initialCluster = peerPorts.map((p, i) => `n${i + 1}=http://127.0.0.1:${p}`).join(',');
  const members = await Promise.all(
    clientPorts.map((client, i) =>
      startServer({
        ...ETCD_PROCESS,
        ...(tmpfsRoot === undefined ? {} : { scratchRoot: tmpfsRoot }),
        // The harness picks its own ports; the members need theirs known up front.
        ports: 1,
        args: (_ports, dir) => [
          '--name',
          `n${i + 1}`,
          '--data-dir',
          `${dir}/data`,
          '--listen-client-urls',
          `http://127.0.0.1:${client}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${client}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${peerPorts[i]}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${peerPorts[i]}`,
          '--initial-cluster',
          initialCluster,
          '--initial-cluster-token',
          token,
          '--initial-cluster-state',
          'new',
          '--heartbeat-interval',
          '25',
          '--election-timeout',
          '250',
          '--log-level',
          'error',
        ],
        url: () => `http://127.0.0.1:${client}`,
        ready: async () => {
          const reply = await fetch(`http://127.0.0.1:${client}/health`).catch(() => undefined);
          return reply?.ok === true && (await reply.text()).includes('"health":"true"');
        },
      }),
    ),
  );
  return {
    members,
    urls: members.map((m) => m.url),
    stop: async () => {
      for (const member of members) member.process?.kill('SIGKILL');
      await Promise.all(members.map((m) => m.stop()));
    },
  };
}
