import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  etcdServerSpec,
  memcachedServerSpec,
  type RunningServer,
  randomKey,
  redisServerSpec,
  type ServerSpec,
  serverAvailable,
  startServer,
} from '@lock/testkit/servers';
import {
  CHILD,
  fieldsOf,
  killLeftoverLocks,
  logLine,
  readLog,
  runLock,
  scratch,
  startLock,
} from './cli.js';

const node = process.execPath;
afterEach(killLeftoverLocks);

/** Each server backend: its server, and the URI `lock` takes for it. */
const BACKENDS: ReadonlyArray<{
  name: string;
  spec: ServerSpec;
  uri: (server: RunningServer) => string;
}> = [
  { name: 'redis', spec: redisServerSpec(), uri: (server) => server.url },
  {
    name: 'memcached',
    spec: memcachedServerSpec(),
    uri: (server) => `memcached://${server.url.replace(/^memcached:\/\//, '')}`,
  },
  {
    name: 'etcd',
    spec: etcdServerSpec(),
    uri: (server) => server.url.replace(/^http:/, 'etcd:'),
  },
];

describe.each(BACKENDS)('every installed backend: $name', ({ spec, uri: uriOf }) => {
  const available = serverAvailable(spec);
  let server: RunningServer;
  let uri: string;
  const files = scratch();

  beforeAll(async () => {
    if (!available) return;
    server = await startServer(spec);
    uri = uriOf(server);
  });
  afterAll(async () => {
    await server?.stop();
    files.remove();
  });

  (available ? it : it.skip)(
    'exec runs the command under the lock; status and --no-wait see it; wait returns once it is released',
    async () => {
      const key = randomKey();
      const log = files.log(`${key}-holder`);
      const holder = startLock([
        'exec',
        uri,
        key,
        '--identity',
        'holder-1',
        '--ttl',
        '3s',
        '--',
        node,
        CHILD,
        log,
      ]);
      const start = await logLine(log, 'start');
      expect(fieldsOf(start)).toMatchObject({ key, identity: 'holder-1' });

      const status = await runLock(['status', uri, key, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({ key, held: true, holder: 'holder-1' });
      expect(status.code).toBe(0);
      const other = files.log(`${key}-other`);
      const refused = await runLock(['exec', uri, key, '--no-wait', '--', node, CHILD, other]);
      expect(refused.code).toBe(75);
      expect(readLog(other)).toEqual([]);
      const stillHeld = await runLock(['wait', uri, key, '--timeout', '200ms']);
      expect(stillHeld.stderr).toMatch(/^lock: ".+" is still held after 200ms\n$/);
      expect(stillHeld.code).toBe(124);

      const waiter = startLock(['wait', uri, key]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(waiter.process.exitCode).toBeNull(); // still waiting
      holder.process.kill('SIGTERM');
      expect(await holder.exited).toBe(0);
      expect(await waiter.exited).toBe(0);
      const free = await runLock(['status', uri, key]);
      expect(free.stdout).toBe(`"${key}" is free\n`);
      expect(free.code).toBe(1);
    },
  );
});
