import { isLockError } from '@lock/core';
import { Client } from 'memjs';
import { itemKeys, MemcachedBackend, openBackend, parseUri } from '../src/index.js';

const errorOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
};

describe('memcached options', () => {
  it.each([
    ['reconnect', 1000],
    ['failures', 5],
    ['idle', 5000],
    ['remove', true],
    ['failover', true],
    ['pool_size', 4],
  ])(
    'rejects the pip-services/memjs option %s that memjs cannot honour, naming it',
    (name, value) => {
      const error = errorOf(
        () => new MemcachedBackend({ host: '127.0.0.1', [name]: value } as never),
      );
      expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain(`options.${name}`);
      expect((error as Error).message).toContain('not supported');
    },
  );

  it('rejects bad values, unknown names, and conflicting sources', () => {
    const bad: unknown[] = [
      {},
      { host: 'a', servers: ['b:1'] },
      { host: 'a', port: 0 },
      { port: 11211 },
      { host: 'a', poolSize: 2 },
      { host: 'a', timeout: -1 },
      { host: 'a', retries: 1.5 },
      { host: 'a', keepAlive: 'yes' },
      { host: 'a', keyPrefix: 'has space' },
      { host: 'a', keyPrefix: 'x'.repeat(210) },
      { host: 'a', username: 'only-user' },
      { servers: [] },
      { servers: ['host:99999'] },
      { client: {} },
      { client: Client.create('127.0.0.1:1'), timeout: 100 },
      { client: Client.create('127.0.0.1:1', { failover: true }) },
    ];
    for (const options of bad) {
      const error = errorOf(() => new MemcachedBackend(options as never));
      expect([options, isLockError(error, 'INVALID_ARGUMENT')]).toEqual([options, true]);
    }
  });

  it('never echoes a string under an unknown option name (it may be a misspelt password)', () => {
    const error = errorOf(() => new MemcachedBackend({ host: 'a', passwrd: 'hunter2' } as never));
    expect((error as Error).message).toContain('options.passwrd');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('never echoes a password from a memjs-style "user:pass@host" server entry', () => {
    const error = errorOf(() => new MemcachedBackend({ servers: ['app:hunter2@10.0.0.1:11211'] }));
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('options.servers');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('maps the pip-services options onto memjs', () => {
    const backend = new MemcachedBackend({
      host: '127.0.0.1',
      port: 11299,
      timeout: 250,
      retries: 3,
      retry: 50,
      keepAlive: true,
      keepAliveDelay: 10_000,
      connectTimeout: 700,
      poolSize: 1,
    });
    const options = backend.client.options as Record<string, unknown>;
    expect(options).toMatchObject({ retries: 4, retry_delay: 0.05, failover: false });
    const server = backend.client.servers[0];
    expect(server).toMatchObject({ host: '127.0.0.1', port: 11299 });
    expect(server?.options).toMatchObject({
      timeout: 0.25,
      conntimeout: 0.7,
      keepAlive: true,
      keepAliveDelay: 10,
    });
    void backend.close();
  });
});

describe('memcached connection strings', () => {
  it('reads servers, percent-encoded credentials and options', () => {
    const parsed = parseUri(
      'memcached://app:p%40ss%3Aw0rd@10.0.0.1:11211,cache2,[::1]:11300/?timeout=500&retries=0&keyPrefix=app-locks:',
    );
    expect(parsed.servers).toEqual([
      { host: '10.0.0.1', port: 11211 },
      { host: 'cache2', port: 11211 },
      { host: '::1', port: 11300 },
    ]);
    expect(parsed.username).toBe('app');
    expect(parsed.password).toBe('p@ss:w0rd');
    expect(parsed.options).toEqual({ timeout: 500, retries: 0, keyPrefix: 'app-locks:' });
  });

  it.each([
    'memcached://',
    'memcached://user:topsecret@',
    'memcached://user:topsecret@host:70000',
    'memcached://user@host',
    'memcached://user:topsecret@host?timeout=soon',
    'memcached://user:topsecret@host?tiemout=5',
    'memcached://user:topsecret@host?failover=true',
    'memcached://user:topsecret@host?poolSize=3',
    'memcached://user:topsecret@host/path',
    'redis://user:topsecret@host',
  ])('rejects %s with the password masked', async (uri) => {
    const error = await openBackend(uri).catch((e: unknown) => e);
    expect(isLockError(error, 'INVALID_CONNECTION_STRING')).toBe(true);
    expect((error as Error).message).not.toContain('topsecret');
  });

  it('openBackend rejects unknown backend options', async () => {
    const error = await openBackend('memcached://127.0.0.1', { colour: 'red' }).catch(
      (e: unknown) => e,
    );
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('options.backend.colour');
  });
});

describe('memcached key mapping', () => {
  it('keeps short printable keys readable and digests the rest to a stable fixed length', () => {
    expect(itemKeys('lock:', 'jobs/42')).toEqual({
      lock: 'lock:jobs/42',
      fence: 'lock:#f:jobs/42',
      semaphore: 'lock:#s:jobs/42',
    });
    const spaced = itemKeys('lock:', 'has space');
    // printf 'has space' | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='
    expect(spaced.lock).toBe('lock:#R7XDb8CwF7pXbxD5iNDLy8eCVtq13g5GiZgImOfHFeM');
    expect(spaced.fence).toBe(`lock:#f:${spaced.lock.slice(5)}`);
    expect(spaced.semaphore).toBe(`lock:#s:${spaced.lock.slice(5)}`);
    for (const key of ['x'.repeat(300), 'tab\there', 'nl\n', 'ü'.repeat(130), '#looks-digested']) {
      const keys = itemKeys('lock:', key);
      expect(keys.lock).toMatch(/^lock:#[A-Za-z0-9_-]{43}$/);
      expect(Buffer.byteLength(keys.fence)).toBeLessThanOrEqual(250);
      expect(Buffer.byteLength(keys.semaphore)).toBeLessThanOrEqual(250);
    }
    expect(itemKeys('lock:', 'a'.repeat(242)).lock).toBe(`lock:${'a'.repeat(242)}`);
    expect(itemKeys('lock:', 'a'.repeat(243)).lock).toMatch(/^lock:#/);
  });
});
