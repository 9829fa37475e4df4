import {
  etcdContainer,
  etcdServerSpec,
  type RunningServer,
  type ServerSpec,
  startServer,
} from '@lock/testkit';

/** etcd as a local process, for servers that always run as one (the three-member cluster). */
export const ETCD_PROCESS = {
  name: 'ETCD',
  command: 'etcd',
  installHint: 'apt-get install etcd-server etcd-client',
} as const;

/** How the tests find etcd, for `serverAvailable`: a local process or a container. */
export const ETCD = { ...ETCD_PROCESS, container: etcdContainer };

/** A single-member etcd (data on tmpfs, 1 s smallest lease); `extraArgs` are added. */
export function singleMember(extraArgs: string[] = []): ServerSpec {
  return { ...etcdServerSpec(() => extraArgs), startTimeoutMs: 20_000 };
}

/**
 * Starts one etcd with its data under /dev/shm (tmpfs) when that exists, or uses
 * `LOCK_TEST_ETCD_URL`. Tests that change the server (enable auth, freeze it) pass `own` to
 * always get a private one, never a shared server given by URL.
 */
export async function startEtcd(options: { own?: boolean } = {}): Promise<RunningServer> {
  const given = process.env['LOCK_TEST_ETCD_URL'];
  if (options.own) delete process.env['LOCK_TEST_ETCD_URL'];
  try {
    return await startServer(singleMember());
  } finally {
    if (given !== undefined) process.env['LOCK_TEST_ETCD_URL'] = given;
  }
}
