import { afterAll, beforeAll } from '@jest/globals';
import {
  etcdContainer,
  etcdServerSpec,
  type RunningServer,
  type ServerSpec,
  startServer,
} from '@lock/testkit';
import { Etcd3 } from 'etcd3';

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

/** The etcd of one test file and a raw client to it (to look behind the backend's back). */
export interface EtcdForTests {
  readonly server: RunningServer;
  readonly raw: Etcd3;
}

/**
 * Starts an etcd for the calling test file (`beforeAll`, see {@link startEtcd}) with a raw
 * client, and stops both after it (`afterAll`). Read the fields inside tests and hooks only.
 */
export function etcdForTests(options: { own?: boolean } = {}): EtcdForTests {
  const fixture: { server?: RunningServer; raw?: Etcd3 } = {};
  beforeAll(async () => {
    fixture.server = await startEtcd(options);
    fixture.raw = new Etcd3({ hosts: fixture.server.url });
  }, 30_000);
  afterAll(async () => {
    fixture.raw?.close();
    await fixture.server?.stop();
  });
  return {
    get server() {
      return fixture.server as RunningServer;
    },
    get raw() {
      return fixture.raw as Etcd3;
    },
  };
}
