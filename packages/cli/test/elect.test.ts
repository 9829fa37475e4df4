import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningServer, randomKey, redisServerSpec, startServer } from '@lock/testkit/servers';
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
import { lockKeyOf, redisAvailable, redisCli } from './redis-server.js';

const available = redisAvailable();
const node = process.execPath;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(available ? describe : describe.skip)('lock elect on Redis', () => {
  let redis: RunningServer;
  const files = scratch();

  const candidate = (key: string, name: string, ttl: string, ...childArgs: string[]) => {
    const lock = startLock([
      'elect',
      redis.url,
      key,
      '--ttl',
      ttl,
      '--identity',
      name,
      '--',
      node,
      CHILD,
      files.log(`${key}-${name}`),
      ...childArgs,
    ]);
    return { name, lock, log: files.log(`${key}-${name}`) };
  };
  /** The first of `candidates` whose command starts. */
  const firstToStart = async <T extends { log: string }>(candidates: T[]): Promise<T> => {
    for (;;) {
      const leader = candidates.find((c) => readLog(c.log).length > 0);
      if (leader !== undefined) return leader;
      await sleep(20);
    }
  };

  beforeAll(async () => {
    redis = await startServer(redisServerSpec());
  });
  afterEach(killLeftoverLocks);
  afterAll(async () => {
    await redis?.stop();
    files.remove();
  });

  it('two candidates: one runs the command; kill its lock outright and the other starts within about a TTL', async () => {
    const key = randomKey();
    const ttl = 1_500;
    const a = candidate(key, 'a', `${ttl}ms`);
    const b = candidate(key, 'b', `${ttl}ms`);
    const leader = await firstToStart([a, b]);
    const follower = leader === a ? b : a;
    await sleep(ttl * 2); // two TTLs of keepalive: the follower still waits
    expect(readLog(follower.log)).toEqual([]);
    expect(leader.lock.stderr()).toMatch(
      /^lock: leading ".+" \(fence \d+\): starting the command\n/m,
    );
    expect(follower.lock.stderr()).toMatch(/^lock: following: waiting to lead ".+"\n/m);

    leader.lock.process.kill('SIGKILL'); // a crash: nothing is released
    const killedAt = Date.now();
    await follower.lock.stderrMatches(/^lock: leading /m, 10_000);
    const ledAt = Date.now();
    const takeover = await logLine(follower.log, 'start');
    // The lock runs out at most a TTL after the kill (its last renewal came before it); the
    // follower then takes it and says so (its command's start-up is not counted here).
    expect(ledAt - killedAt).toBeLessThan(ttl + 500);
    expect(Number(fieldsOf(takeover)['fence'])).toBeGreaterThan(
      Number(fieldsOf(await logLine(leader.log, 'start'))['fence']),
    );
    follower.lock.process.kill('SIGTERM');
    expect(await follower.lock.exited).toBe(0);
  });

  it('SIGTERM to the leader: its command stops, lock exits with the command’s code, and the other takes over at once', async () => {
    const key = randomKey();
    const ttl = 10_000;
    const a = candidate(key, 'a', `${ttl}ms`, '--on-signal-exit', '5');
    const b = candidate(key, 'b', `${ttl}ms`, '--on-signal-exit', '5');
    const leader = await firstToStart([a, b]);
    const follower = leader === a ? b : a;
    await sleep(500);
    leader.lock.process.kill('SIGTERM');
    const signalledAt = Date.now();
    expect(await leader.lock.exited).toBe(5);
    const takeover = await logLine(follower.log, 'start');
    expect(takeover.at - signalledAt).toBeLessThan(ttl / 2); // a release, not an expiry
    follower.lock.process.kill('SIGINT');
    expect(await follower.lock.exited).toBe(5);
    expect((await runLock(['status', redis.url, key])).code).toBe(1);
  });

  it('leadership lost: the command is stopped, and lock campaigns again and restarts it', async () => {
    const key = randomKey();
    const only = candidate(key, 'solo', '1500ms');
    const first = await logLine(only.log, 'start');
    redisCli(redis, 'DEL', lockKeyOf(key));
    await logLine(only.log, 'got SIGTERM');
    await only.lock.stderrMatches(/campaigning for ".+" again/);
    const starts = async () => {
      for (;;) {
        const lines = readLog(only.log).filter((line) => line.what.startsWith('start'));
        if (lines.length >= 2) return lines;
        await sleep(20);
      }
    };
    const [, second] = await starts();
    expect(Number(fieldsOf(second as never)['fence'])).toBeGreaterThan(
      Number(fieldsOf(first)['fence']),
    );
    expect(only.lock.stderr()).toMatch(
      /^lock: leadership lost: lock ".+" was lost \(refused\).*: stopping the command/m,
    );
    only.lock.process.kill('SIGTERM');
    expect(await only.lock.exited).toBe(0);
  });

  it('SIGHUP passed on to the leader’s command (a reload) does not make lock elect quit when leadership is later lost', async () => {
    const key = randomKey();
    const only = candidate(key, 'solo', '1500ms', '--ignore-hup');
    await logLine(only.log, 'start');
    only.lock.process.kill('SIGHUP');
    await logLine(only.log, 'got SIGHUP');
    redisCli(redis, 'DEL', lockKeyOf(key));
    await logLine(only.log, 'got SIGTERM');
    await only.lock.stderrMatches(/campaigning for ".+" again/);
    for (;;) {
      if (readLog(only.log).filter((line) => line.what.startsWith('start')).length >= 2) break;
      await sleep(20);
    }
    expect(only.lock.process.exitCode).toBeNull();
    only.lock.process.kill('SIGTERM');
    expect(await only.lock.exited).toBe(0);
  });

  it('a command that exits by itself ends lock elect with its code and hands leadership on', async () => {
    const key = randomKey();
    const a = candidate(key, 'a', '10s', '--exit-after', '700', '--exit', '9');
    const leaderStart = await logLine(a.log, 'start');
    const b = candidate(key, 'b', '10s');
    expect(await a.lock.exited).toBe(9);
    const takeover = await logLine(b.log, 'start');
    expect(takeover.at).toBeGreaterThan(leaderStart.at);
    b.lock.process.kill('SIGTERM');
    expect(await b.lock.exited).toBe(0);
  });

  it('SIGHUP while following (a service manager’s reload) is ignored: the standby stays and takes over later', async () => {
    const key = randomKey();
    const a = candidate(key, 'a', '10s');
    await logLine(a.log, 'start');
    const b = candidate(key, 'b', '10s');
    await b.lock.stderrMatches(/following: waiting to lead/);
    b.lock.process.kill('SIGHUP');
    await sleep(500);
    expect(b.lock.process.exitCode).toBeNull();
    a.lock.process.kill('SIGTERM');
    expect(await a.lock.exited).toBe(0);
    await logLine(b.log, 'start');
    b.lock.process.kill('SIGTERM');
    expect(await b.lock.exited).toBe(0);
  });

  it('a signal while following ends lock elect at once (128 + signal)', async () => {
    const key = randomKey();
    const a = candidate(key, 'a', '10s');
    await logLine(a.log, 'start');
    const b = candidate(key, 'b', '10s');
    await b.lock.stderrMatches(/following: waiting to lead/);
    b.lock.process.kill('SIGINT');
    expect(await b.lock.exited).toBe(130);
    expect(readLog(b.log)).toEqual([]);
    a.lock.process.kill('SIGTERM');
    expect(await a.lock.exited).toBe(0);
  });
});
