import { type ServerSpec, tmpfsRoot } from '@lock/testkit/servers';
import { exec } from './exec.js';

/** Where one etcd member listens. */
export interface EtcdMemberAddress {
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

/**
 * Server specs of a three-member etcd cluster (one shared `--initial-cluster` and token), with
 * the test suite's short election timeout, data on tmpfs where there is one. The members keep
 * their data across restarts (their data folder lives in the scratch folder the harness keeps).
 */
export function etcdMemberSpecs(
  members: readonly EtcdMemberAddress[],
  token: string,
): ServerSpec[] {
  const initialCluster = members
    .map((m, i) => `n${i + 1}=http://${m.host}:${m.peerPort}`)
    .join(',');
  return members.map((member, i) => ({
    name: 'ETCD',
    command: 'etcd',
    ports: 2,
    ...(tmpfsRoot === undefined ? {} : { scratchRoot: tmpfsRoot }),
    args: (_ports, dir) => [
      '--name',
      `n${i + 1}`,
      '--data-dir',
      `${dir}/data`,
      '--listen-client-urls',
      `http://${member.host}:${member.clientPort}`,
      '--advertise-client-urls',
      `http://${member.host}:${member.clientPort}`,
      '--listen-peer-urls',
      `http://${member.host}:${member.peerPort}`,
      '--initial-advertise-peer-urls',
      `http://${member.host}:${member.peerPort}`,
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
    url: () => `http://${member.host}:${member.clientPort}`,
    installHint: 'apt-get install etcd-server etcd-client',
  }));
}

/** What etcd's status call tells. */
export interface EtcdStatus {
  readonly memberId: string;
  readonly leader: string;
  readonly revision: number;
}

/**
 * Calls etcd's JSON gateway (`/v3/…`) on `endpoint`; from inside `netns` with curl when given
 * (the orchestrator itself stays in the host's namespace).
 */
export async function etcdGateway(
  endpoint: string,
  path: string,
  body: unknown,
  netns?: string,
): Promise<unknown> {
  const text = JSON.stringify(body);
  if (netns === undefined) {
    const reply = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      body: text,
      signal: AbortSignal.timeout(2_000),
    });
    if (!reply.ok) throw new Error(`${path} on ${endpoint}: HTTP ${reply.status}`);
    return reply.json();
  }
  const result = await exec(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'curl',
      '-fsS',
      '--max-time',
      '2',
      '-X',
      'POST',
      '-d',
      text,
      `${endpoint}${path}`,
    ],
    4_000,
  );
  if (result.code !== 0) throw new Error(`${path} on ${endpoint}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as unknown;
}

/** The status of one member (its id, the leader it knows, the current revision). */
export async function etcdStatus(endpoint: string, netns?: string): Promise<EtcdStatus> {
  const reply = (await etcdGateway(endpoint, '/v3/maintenance/status', {}, netns)) as {
    header?: { member_id?: string; revision?: string };
    leader?: string;
  };
  return {
    memberId: reply.header?.member_id ?? '',
    leader: reply.leader ?? '',
    revision: Number(reply.header?.revision ?? 0),
  };
}

/** Index of the member that leads, as the reachable members see it, or -1. */
export async function etcdLeader(endpoints: readonly string[], netns?: string): Promise<number> {
  const statuses = await Promise.all(
    endpoints.map((endpoint) => etcdStatus(endpoint, netns).catch(() => undefined)),
  );
  const leader = statuses.find(
    (s) => s !== undefined && s.leader !== '' && s.leader !== '0',
  )?.leader;
  return statuses.findIndex((s) => s?.memberId === leader);
}

/** Compacts the key-value history at the current revision (cancelling watches from before it). */
export async function etcdCompact(endpoints: readonly string[], netns?: string): Promise<number> {
  for (const endpoint of endpoints) {
    const status = await etcdStatus(endpoint, netns).catch(() => undefined);
    if (status === undefined) continue;
    await etcdGateway(endpoint, '/v3/kv/compaction', { revision: String(status.revision) }, netns);
    return status.revision;
  }
  throw new Error('no etcd member answered the status call');
}
