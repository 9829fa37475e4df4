import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canConnect,
  type RunningServer,
  type ServerSpec,
  serverAvailable,
  startServer,
} from '@lock/testkit';

/** How the tests start memcached. */
export const MEMCACHED: ServerSpec = {
  name: 'MEMCACHED',
  command: 'memcached',
  installHint: 'apt-get install memcached',
  args: ([port]) => ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64', '-u', 'root'],
  url: ([port]) => `127.0.0.1:${port}`,
};

/** True when memcached can run here (warns loudly when not; throws under CI). */
export const memcachedAvailable = serverAvailable(MEMCACHED);

/** `describe`, or `describe.skip` when memcached is missing. */
export const describeMemcached = memcachedAvailable ? describe : describe.skip;

/** Starts a memcached on a free port; its `url` is `host:port`. */
export function startMemcached(): Promise<RunningServer> {
  return startServer(MEMCACHED);
}

/** Starts memcached on a given port, so that a restart comes back at the same address. */
export async function startMemcachedOnPort(port: number): Promise<RunningServer> {
  const server = await startServer({
    ...MEMCACHED,
    args: (_ports, dir) => MEMCACHED.args([port], dir),
    url: () => `127.0.0.1:${port}`,
    ready: () => canConnect(port),
  });
  // The harness reports the free ports it picked, which the arguments above ignore.
  return { ...server, ports: [port] };
}

/**
 * Kills `server` with SIGKILL (a crash: it works on a frozen server too, and the kernel resets
 * connections whose requests it had not read yet), then starts a fresh one on the same port,
 * empty, its CAS numbering back at 1.
 */
export async function crashAndRestart(server: RunningServer): Promise<RunningServer> {
  const port = server.ports[0];
  if (port === undefined) throw new Error('cannot restart a server given by URL');
  server.process?.kill('SIGKILL');
  await server.stop();
  return startMemcachedOnPort(port);
}

/** SASL credentials of {@link startSaslMemcached}. */
export const SASL_USER = 'lockuser';
export const SASL_PASSWORD = 'c0rrect horse';

/**
 * Starts a memcached that requires SASL PLAIN (`-S`), with a sasldb holding one user, made with
 * `saslpasswd2` in a scratch folder that `stop()` removes.
 */
export async function startSaslMemcached(): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lock-memcached-sasl-'));
  const db = join(dir, 'sasldb');
  writeFileSync(join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`);
  const made = spawnSync('saslpasswd2', ['-p', '-a', 'memcached', '-f', db, '-c', SASL_USER], {
    input: SASL_PASSWORD,
  });
  if (made.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`saslpasswd2 failed (apt-get install sasl2-bin): ${made.stderr?.toString()}`);
  }
  const server = await startServer({
    ...MEMCACHED,
    name: 'MEMCACHED_SASL',
    args: ([port]) => ['-S', ...MEMCACHED.args([port as number], dir)],
    env: { SASL_CONF_PATH: dir },
  });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
