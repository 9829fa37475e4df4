import { etcdServerSpec, type RunningServer, type ServerSpec, startServer } from '@lock/testkit';

/** How the tests find etcd, for `serverAvailable`. */
export const ETCD = {
  name: 'ETCD',
  command: 'etcd',
  installHint: 'apt-get install etcd-server etcd-client',
} as const;

/** A single-member etcd (data on tmpfs, 1 s smallest lease); `extraArgs` are added. */
export function singleMember(extraArgs: string[] = []): ServerSpec {
  return { ...etcdServerSpec(() => extraArgs), startTimeoutMs: 20_000 };
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
