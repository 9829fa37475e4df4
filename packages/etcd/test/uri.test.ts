import { describe, expect, it } from '@jest/globals';
import { isLockError } from '@lock/core';
import { parseDuration } from '../src/duration.js';
import { openBackend, parseEtcdUri } from '../src/index.js';

describe('etcd connection strings', () => {
  it('reads a comma-separated host list, credentials, prefix and durations', () => {
    expect(
      parseEtcdUri(
        'etcd://user:p%40ss@h1:2379,h2,[::1]:2380/app/locks/?dial-timeout=2s&request-timeout=1500ms&keep-alive-time=10s&keep-alive-timeout=3s',
      ),
    ).toEqual({
      hosts: ['http://h1:2379', 'http://h2:2379', 'http://[::1]:2380'],
      prefix: 'app/locks/',
      dialTimeoutMs: 2000,
      requestTimeoutMs: 1500,
      keepAliveTimeMs: 10_000,
      keepAliveTimeoutMs: 3000,
      auth: { username: 'user', password: 'p@ss' },
    });
    expect(parseEtcdUri('etcds://h1:2379?username=u&password=x').hosts).toEqual([
      'https://h1:2379',
    ]);
    expect(parseEtcdUri('etcd://h1?auto-sync-interval=0&reject-old-cluster=false')).toEqual({
      hosts: ['http://h1:2379'],
    });
  });

  it('rejects malformed URIs with the password masked', () => {
    for (const uri of [
      'etcd://',
      'etcd://user:hunter2@h1,,h2',
      'etcd://user:hunter2@h1:99999',
      'etcd://user:hunter2@h1?dial-timeout=soon',
      'redis://user:hunter2@h1',
      'etcd://h1?password=hunter2',
    ]) {
      const error = (() => {
        try {
          parseEtcdUri(uri);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect([uri, isLockError(error, 'INVALID_CONNECTION_STRING')]).toEqual([uri, true]);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects query parameters etcd3 cannot honour, and unknown ones, as invalid connection strings worded as on every backend', () => {
    for (const uri of [
      'etcd://h1?auto-sync-interval=30s',
      'etcd://h1?reject-old-cluster=true',
      'etcd://h1?dial_timeout=2s',
    ]) {
      const error = (() => {
        try {
          parseEtcdUri(uri);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect([uri, isLockError(error, 'INVALID_CONNECTION_STRING')]).toEqual([uri, true]);
    }
    expect(() => parseEtcdUri('etcd://h1?dial_timeout=2s')).toThrow(
      'unknown query parameter "dial_timeout"',
    );
  });

  it("reads src-d's etcd:host:2379,host2:2379 form as etcd://", () => {
    expect(parseEtcdUri('etcd:h1:2379,h2:2380?dial-timeout=2s')).toEqual(
      parseEtcdUri('etcd://h1:2379,h2:2380?dial-timeout=2s'),
    );
  });

  it('openBackend checks its options before connecting', async () => {
    await expect(openBackend('etcd://h1', { tll: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(openBackend('etcd://h1', { requestTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const backend = await openBackend('etcd://127.0.0.1:1', { prefix: 'x/' });
    expect(backend.layout.prefix).toBe('x/');
    await backend.close();
  });

  it('reads Go-style durations', () => {
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2 s')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
});
