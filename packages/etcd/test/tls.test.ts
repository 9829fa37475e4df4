// etcds:// against a real etcd serving its client port over TLS, with a CA made here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, isLockError } from '@lock/core';
import {
  canConnect,
  hasCommand,
  makeTestCertificates,
  type RunningServer,
  randomKey,
  serverAvailable,
  startServer,
} from '@lock/testkit';
import { openBackend } from '../src/index.js';
import { ETCD, singleMember } from './etcd-server.js';

const available = serverAvailable(ETCD) && hasCommand('openssl');

(available ? describe : describe.skip)('TLS (etcds://)', () => {
  let certs: string;
  let server: RunningServer;
  const uri = () => `etcds://127.0.0.1:${server.ports[0]}?dial-timeout=2s`;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'lock-etcd-tls-'));
    const files = makeTestCertificates(certs);
    const plain = singleMember(['--cert-file', files.cert, '--key-file', files.key]);
    server = await startServer({
      ...plain,
      name: 'ETCD_TLS',
      // The client URLs (listen and advertise, whatever address) go https.
      args: (ports, dir, listenHost) =>
        plain
          .args(ports, dir, listenHost)
          .map((arg) => (arg.endsWith(`:${ports[0]}`) ? arg.replace(/^http:/, 'https:') : arg)),
      mounts: [certs], // the certificates, in a container too
      url: ([client]) => `etcds://127.0.0.1:${client}`,
      ready: ([client]) => canConnect(client as number),
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  it('locks over TLS when given the server CA', async () => {
    const locker = await connect(uri(), {
      backend: { tls: { rootCertificate: readFileSync(join(certs, 'ca.crt')) } },
    });
    try {
      const lock = await locker.lock(randomKey(), { timeout: 5_000 });
      expect(lock.fence).toBeGreaterThan(0);
      await lock.release();
    } finally {
      await locker.close();
    }
  });

  it('an untrusted server certificate fails fast with a BackendError, not a hang', async () => {
    const backend = await openBackend(uri());
    try {
      const started = performance.now();
      const error = await backend
        .acquire({ key: randomKey(), owner: 'x.y', ttlMs: 5_000 })
        .catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(isLockError(error, 'BACKEND')).toBe(true);
    } finally {
      await backend.close();
    }
  });
});
