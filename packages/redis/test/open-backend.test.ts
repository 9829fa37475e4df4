import { describe, expect, it } from '@jest/globals';
import { isLockError } from '@lock/core';
import { parseRedisClusterUri, parseRedisUri, parseRedlockUri } from '../src/index.js';

describe('parseRedisUri', () => {
  it('reads host, port, ACL user, password, database, TLS and query options', () => {
    const options = parseRedisUri(
      'rediss://alice:p%40ss@cache.example:6380/3?connect-timeout=2s&command-timeout=500ms&prefix=app:&fair=false&queue-poll-interval=1m',
    );
    expect(options.clientOptions).toEqual({
      socket: { host: 'cache.example', port: 6380, tls: true },
      username: 'alice',
      password: 'p@ss',
      database: 3,
    });
    expect(options).toMatchObject({
      connectTimeout: 2_000,
      commandTimeout: 500,
      prefix: 'app:',
      fair: false,
      queuePollInterval: 60_000,
    });
  });

  it('lets options override the query, and takes TLS options for rediss only', () => {
    const options = parseRedisUri('rediss://h?command-timeout=1s', {
      commandTimeout: 250,
      tls: { servername: 'h' },
    });
    expect(options.commandTimeout).toBe(250);
    expect(options.clientOptions?.socket).toMatchObject({ tls: true, servername: 'h' });
    expect(() => parseRedisUri('redis://h', { tls: {} })).toThrow(/only allowed/);
  });

  it('rejects bad URIs with InvalidConnectionStringError and masks the password', () => {
    for (const uri of [
      'redis://:hunter2@',
      'http://:hunter2@host',
      'redis://:hunter2@host/db1',
      'redis://:hunter2@host?tiemout=1s',
      'redis://:hunter2@host?command-timeout=soon',
      'not a uri',
    ]) {
      const error = (() => {
        try {
          parseRedisUri(uri);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect([uri, isLockError(error, 'INVALID_CONNECTION_STRING')]).toEqual([uri, true]);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects unknown options with InvalidArgumentError naming them', () => {
    let error: unknown;
    try {
      parseRedisUri('redis://h', { comandTimeout: 5 });
    } catch (e) {
      error = e;
    }
    expect(isLockError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('options.comandTimeout');
  });
});

/** The error `parse` throws, or undefined. */
function thrown(parse: () => unknown): unknown {
  try {
    parse();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('parseRedlockUri', () => {
  it('reads every host (default port 6379, IPv6), credentials, database, TLS and query options', () => {
    const options = parseRedlockUri(
      'redlocks://alice:p%40ss@a.example:6380,b.example,[::1]:7000/2?prefix=app:&connect-timeout=2s&command-timeout=250ms&check-eviction-policy=false&drift-factor=0.02',
      { tls: { servername: 'locks' } },
    );
    const node = (host: string, port: number) => ({
      socket: { host, port, tls: true, servername: 'locks' },
      username: 'alice',
      password: 'p@ss',
      database: 2,
    });
    expect(options).toEqual({
      nodes: [node('a.example', 6380), node('b.example', 6379), node('::1', 7000)],
      prefix: 'app:',
      connectTimeout: 2_000,
      commandTimeout: 250,
      checkEvictionPolicy: false,
      driftFactor: 0.02,
    });
    expect(parseRedlockUri('redlock://h1,h2,h3', { commandTimeout: 100 })).toEqual({
      nodes: [
        { socket: { host: 'h1', port: 6379 } },
        { socket: { host: 'h2', port: 6379 } },
        { socket: { host: 'h3', port: 6379 } },
      ],
      commandTimeout: 100,
    });
  });

  it('rejects bad URIs before any I/O, naming the value and the rule, with the password masked', () => {
    for (const [uri, rule] of [
      ['redlock://:hunter2@h1,h2', /odd number of independent hosts.*got 2/],
      ['redlock://:hunter2@h1,h2,h1', /h1:6379 is listed twice/],
      ['redlock://:hunter2@h1,h2:99999,h3', /port 99999 is out of range/],
      ['redlock://:hunter2@h1,h 2,h3', /"h 2" is not a host or host:port/],
      ['redlock://:hunter2@', /no host given/],
      ['redlock://:hunter2@h1,h2,h3/db', /database number/],
      ['redlock://:hunter2@h1,h2,h3?fair=false', /"fair" does not apply to redlock:\/\//],
      ['redlock://:hunter2@h1,h2,h3?tiemout=1s', /unknown query parameter "tiemout"/],
      ['redlock://:hunter2@h1,h2,h3?drift-factor=lots', /"drift-factor" must be a number/],
      ['redis://:hunter2@h1,h2,h3', /expected "redlock:\/\/host1:6379/],
    ] as const) {
      const error = thrown(() => parseRedlockUri(uri));
      expect([uri, isLockError(error, 'INVALID_CONNECTION_STRING')]).toEqual([uri, true]);
      expect([uri, (error as Error).message]).toEqual([uri, expect.stringMatching(rule)]);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects options that do not apply, and TLS options without TLS', () => {
    const fair = thrown(() => parseRedlockUri('redlock://h1,h2,h3', { fair: false }));
    expect(isLockError(fair, 'INVALID_ARGUMENT')).toBe(true);
    expect((fair as Error).message).toContain('options.fair');
    const tls = thrown(() => parseRedlockUri('redlock://h1,h2,h3', { tls: {} }));
    expect((tls as Error).message).toMatch(/options.tls .*only allowed with "redlocks:\/\/"/);
  });
});

describe('parseRedisClusterUri', () => {
  it('reads the seed hosts, credentials for every node, TLS and the redis:// query options', () => {
    const options = parseRedisClusterUri(
      'rediss-cluster://bob:s3cret@c1:7000,c2?fair=false&command-timeout=1s',
      { tls: { servername: 'c' } },
    );
    expect(options).toEqual({
      clusterOptions: {
        rootNodes: [{ socket: { host: 'c1', port: 7000 } }, { socket: { host: 'c2', port: 6379 } }],
        defaults: { socket: { tls: true, servername: 'c' }, username: 'bob', password: 's3cret' },
      },
      fair: false,
      commandTimeout: 1_000,
    });
  });

  it('rejects a database other than 0 and a bad host list, masking the password', () => {
    for (const uri of [
      'redis-cluster://:hunter2@c1,c2/1',
      'redis-cluster://:hunter2@c1,,c2',
      'redis-cluster://:hunter2@c1?drift-factor=0.1',
    ]) {
      const error = thrown(() => parseRedisClusterUri(uri));
      expect([uri, isLockError(error, 'INVALID_CONNECTION_STRING')]).toEqual([uri, true]);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});
