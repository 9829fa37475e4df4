import { describe, expect, it } from '@jest/globals';
import { isLockError } from '@lock/core';
import { parseRedisUri } from '../src/index.js';

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
