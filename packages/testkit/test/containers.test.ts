// What only the container provider does, against a real Docker engine: servers run in labelled
// containers that stop() removes, and read-only mounts reach them. (The faults every suite
// injects are in server-faults.test.ts, for both providers.) Runs when containers run the test
// servers (LOCK_TEST_SERVERS=containers, or auto where an engine answers); CI runs it in its
// container step.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONTAINER_LABEL } from '../src/container-server.js';
import { canConnect, isCI, type RunningServer, startServer } from '../src/harness.js';
import { chooseProvider, describeChoice } from '../src/provider-choice.js';
import { redisServerSpec } from '../src/server-specs.js';
import { redis } from './resp.js';

const choice = chooseProvider();
const containers = choice.provider === 'containers';
if (!containers) {
  // Under CI the container step sets LOCK_TEST_SERVERS=containers and the others =process: an
  // engine that silently went missing must not turn these tests into skips.
  if (isCI && choice.requested !== 'process') {
    throw new Error(`${describeChoice(choice)}: under CI, no Docker engine is a failure`);
  }
  console.warn(
    `\n*** SKIPPING CONTAINER PROVIDER TESTS: ${describeChoice(choice)}. Start a Docker engine (or bash scripts/test-containers.sh start) and set LOCK_TEST_SERVERS=containers. ***\n`,
  );
}
const describeContainers = containers ? describe : describe.skip;

/** Ids of the running containers this harness labelled with `name`. */
async function containersNamed(name: string): Promise<string[]> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const all = await client.container.list();
  return all.filter((c) => c.Labels[CONTAINER_LABEL] === name).map((c) => c.Id);
}

describeContainers('Redis in a container', () => {
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    server = await startServer(redisServerSpec());
    port = server.ports[0] as number;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('runs in a container, not as a local process, and answers on its loopback port', async () => {
    expect(server.provider).toBe('container');
    expect(server.process).toBeUndefined();
    expect(server.url).toBe(`redis://127.0.0.1:${port}`);
    expect(await containersNamed('REDIS')).toHaveLength(1);
    expect(await redis(port, 'PING')).toBe('+PONG');
  });

  it('stop() removes the container', async () => {
    const started = await startServer(redisServerSpec());
    expect(await containersNamed('REDIS')).toHaveLength(2);
    await started.stop();
    expect(await containersNamed('REDIS')).toHaveLength(1);
    expect(await canConnect(started.ports[0] as number)).toBe(false);
  }, 60_000);
});

describeContainers('a spec with read-only mounts', () => {
  it('the server reads a host file at the same path inside its container', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-mount-'));
    const config = join(dir, 'extra.conf');
    writeFileSync(config, 'requirepass from-a-mounted-file\n');
    const server = await startServer({
      ...redisServerSpec(() => ['--include', config]),
      mounts: [dir],
    });
    try {
      const port = server.ports[0] as number;
      expect(await redis(port, 'PING')).toMatch(/^-NOAUTH/);
      expect(await redis(port, 'AUTH from-a-mounted-file')).toBe('+OK');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
