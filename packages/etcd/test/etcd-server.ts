import { type RunningServer, type ServerSpec, startServer } from '@lock/testkit';

/** How the tests find etcd, for `serverAvailable`. */
export const ETCD = {
  name: 'ETCD',
  command: 'etcd',
  installHint: 'apt-get install etcd-server etcd-client',
} as const;

/**
 * A single-member etcd on two free loopback ports (client, peer), its data on tmpfs (3.4 has no
 * `--unsafe-no-fsync`), with a short election timeout so the smallest lease is 1 s.
 */
export function singleMember(extraArgs: string[] = []): ServerSpec {
  return {
    ...ETCD,
    ports: 2,
    args: ([client, peer], dir) => [
      '--name',
      'n1',
      '--data-dir',
      `${dir}/data`,
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
      ...extraArgs,
    ],
    url: ([client]) => `http://127.0.0.1:${client}`,
    ready: async ([client]) => {
      const reply = await fetch(`http://127.0.0.1:${client}/health`).catch(() => undefined);
      return reply?.ok === true && (await reply.text()).includes('"health":"true"');
    },
    startTimeoutMs: 20_000,
  };
}

/**
 * Starts one etcd with its data under /dev/shm (tmpfs) when that exists, or uses
 * `LOCK_TEST_ETCD_URL`. Tests that change the server (enable auth, freeze it) pass `own` to
 * always get a private one, never a shared server given by URL.
 */
export function startEtcd(options: { own?: boolean } = {}): Promise<RunningServer> {
  return withTmpfs(async () => {
    const given = process.env['LOCK_TEST_ETCD_URL'];
    if (options.own) delete process.env['LOCK_TEST_ETCD_URL'];
    try {
      return await startServer(singleMember());
    } finally {
      if (given !== undefined) process.env['LOCK_TEST_ETCD_URL'] = given;
    }
  });
}

/** Runs `start` with TMPDIR on /dev/shm, so the harness's scratch folder is on tmpfs. */
export async function withTmpfs<T>(start: () => Promise<T>): Promise<T> {
  const previous = process.env['TMPDIR'];
  const { existsSync } = await import('node:fs');
  if (existsSync('/dev/shm')) process.env['TMPDIR'] = '/dev/shm';
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
  }
}
