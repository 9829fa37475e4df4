import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  freePort,
  type RunningServer,
  randomKey,
  redisServerSpec,
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
import { lockKeyOf, redisAvailable, redisCli, startOwnRedis } from './redis-server.js';

const available = redisAvailable();
afterEach(killLeftoverLocks);
const node = process.execPath;

/** Whether a process (or process group, with a negative id) still exists. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

(available ? describe : describe.skip)('lock exec on Redis', () => {
  let redis: RunningServer;
  const files = scratch();
  const held = (key: string) => redisCli(redis, 'EXISTS', lockKeyOf(key)) === '1';
  /** `lock exec <redis> <key> <flags…> -- node child.mjs <log> <childArgs…>`. */
  const execChild = (key: string, log: string, flags: string[] = [], childArgs: string[] = []) =>
    startLock(['exec', redis.url, key, ...flags, '--', node, CHILD, log, ...childArgs]);

  beforeAll(async () => {
    redis = await startServer(redisServerSpec());
  });
  afterAll(async () => {
    await redis?.stop();
    files.remove();
  });

  it('the command sees LOCK_KEY, LOCK_IDENTITY and LOCK_FENCE, never the owner token; lock exits with its code and releases', async () => {
    const key = randomKey();
    const log = files.log('env');
    const lock = execChild(
      key,
      log,
      ['--identity', 'cron-host-7'],
      ['--exit-after', '1500', '--exit', '7'],
    );
    const start = await logLine(log, 'start');
    const token = redisCli(redis, 'GET', lockKeyOf(key));
    const fence = redisCli(redis, 'GET', `${lockKeyOf(key)}:fence`);
    expect(token).toMatch(/^cron-host-7\.[\w-]{16,}$/);
    expect(fieldsOf(start)).toMatchObject({ key, identity: 'cron-host-7', fence });
    const secret = token.slice('cron-host-7.'.length);
    expect(readFileSync(`${log}.env`, 'utf8')).not.toContain(secret);
    expect(await lock.exited).toBe(7);
    expect(lock.stderr()).toBe('');
    expect(held(key)).toBe(false);
  });

  it('a second exec waits for the first (or exits 75 with --no-wait, 124 after --wait); status shows the holder', async () => {
    const key = randomKey();
    const [logA, logB, logC] = [files.log('a'), files.log('b'), files.log('c')];
    const first = execChild(key, logA, ['--identity', 'first', '--ttl', '5s']);
    const startA = await logLine(logA, 'start');

    const noWait = await runLock(['exec', redis.url, key, '--no-wait', '--', node, CHILD, logC]);
    expect(noWait.stderr).toMatch(
      /^lock: lock ".+" is held by "first" for \d+ ms more: the command was not started \(--no-wait\)\n$/,
    );
    expect(noWait.code).toBe(75);
    const timedOut = await runLock([
      'exec',
      redis.url,
      key,
      '--wait',
      '300ms',
      '--',
      node,
      CHILD,
      logC,
    ]);
    expect(timedOut.stderr).toMatch(/was not acquired within 300ms: the command was not started/);
    expect(timedOut.code).toBe(124);
    expect(readLog(logC)).toEqual([]);

    const status = await runLock(['status', redis.url, key]);
    expect(status.stdout).toMatch(
      new RegExp(
        `^"${key}" is held by "first" \\((\\d+(\\.\\d)?s) left, fence ${fieldsOf(startA)['fence']}\\)\\n$`,
      ),
    );
    expect(status.code).toBe(0);
    const json = await runLock(['status', redis.url, key, '--json']);
    const body = JSON.parse(json.stdout);
    expect(body).toEqual({
      key,
      held: true,
      holder: 'first',
      remainingMs: expect.any(Number),
      fence: Number(fieldsOf(startA)['fence']),
    });
    expect(body.remainingMs).toBeGreaterThan(0);
    expect(body.remainingMs).toBeLessThanOrEqual(5_000);

    const second = execChild(key, logB, [], ['--exit-after', '0']);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // started, connected and queued
    expect(readLog(logB)).toEqual([]); // still waiting
    first.process.kill('SIGTERM'); // forwarded: the child exits 0, then the lock is released
    expect(await first.exited).toBe(0);
    expect(await second.exited).toBe(0);
    const exitA = readLog(logA).find((line) => line.what.startsWith('exit'));
    const startB = await logLine(logB, 'start');
    expect(startB.at).toBeGreaterThanOrEqual(exitA?.at ?? Number.POSITIVE_INFINITY);
    expect(Number(fieldsOf(startB)['fence'])).toBeGreaterThan(Number(fieldsOf(startA)['fence']));
    const free = await runLock(['status', redis.url, key, '--json']);
    expect(JSON.parse(free.stdout)).toEqual({ key, held: false });
    expect(free.code).toBe(1);
  });

  it('deleting the key behind the holder stops the command within one TTL; lock exits 125', async () => {
    const key = randomKey();
    const log = files.log('deleted');
    const ttl = 1_500;
    const lock = startLock(['exec', redis.url, key, '--ttl', `${ttl}ms`, '--', node, CHILD, log]);
    await logLine(log, 'start');
    const deletedAt = Date.now();
    expect(redisCli(redis, 'DEL', lockKeyOf(key))).toBe('1');
    const term = await logLine(log, 'got SIGTERM');
    expect(term.at - deletedAt).toBeLessThan(ttl);
    expect(await lock.exited).toBe(125);
    expect(lock.stderr()).toMatch(
      /^lock: lost: lock ".+" was lost \(refused\): lock ".+" is not held by anyone: stopping the command \(SIGTERM now, SIGKILL after 10s\)\n$/,
    );
  });

  it('a command that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const key = randomKey();
    const log = files.log('stubborn');
    const grace = 700;
    const lock = startLock([
      'exec',
      redis.url,
      key,
      '--ttl',
      '1500ms',
      '--grace',
      `${grace}ms`,
      '--',
      node,
      CHILD,
      log,
      '--ignore-term',
    ]);
    const pid = Number(fieldsOf(await logLine(log, 'start'))['pid']);
    redisCli(redis, 'DEL', lockKeyOf(key));
    const term = await logLine(log, 'got SIGTERM');
    expect(await lock.exited).toBe(125);
    const exitedAt = Date.now();
    expect(exists(pid)).toBe(false);
    expect(readLog(log).map((line) => line.what)).not.toContain('exit 0');
    // SIGKILL comes a grace period after SIGTERM (the child logs SIGTERM a little after it was sent).
    expect(exitedAt - term.at).toBeGreaterThanOrEqual(grace - 50);
    expect(lock.stderr()).toMatch(/SIGKILL after 700ms/);
  });

  it('on loss the whole process group stops: a shell and the command it started', async () => {
    const key = randomKey();
    const log = files.log('group');
    const lock = startLock([
      'exec',
      redis.url,
      key,
      '--ttl',
      '1500ms',
      '--',
      'sh',
      '-c',
      `"${node}" "${CHILD}" "${log}"; echo unreachable`,
    ]);
    const pid = Number(fieldsOf(await logLine(log, 'start'))['pid']);
    redisCli(redis, 'DEL', lockKeyOf(key));
    await logLine(log, 'got SIGTERM');
    expect(await lock.exited).toBe(125);
    expect(exists(pid)).toBe(false);
    expect(lock.stdout()).not.toContain('unreachable');
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
    '%s to lock reaches the command; the lock is held until it exits, then released',
    async (signal) => {
      const key = randomKey();
      const log = files.log(`forward-${signal}`);
      const lock = execChild(key, log, [], ['--linger', '800', '--on-signal-exit', '3']);
      await logLine(log, 'start');
      lock.process.kill(signal);
      await logLine(log, `got ${signal}`);
      expect(held(key)).toBe(true); // the command is still finishing
      expect(await lock.exited).toBe(3);
      expect(readLog(log).filter((line) => line.what.startsWith('got'))).toHaveLength(1);
      expect(held(key)).toBe(false);
    },
  );

  it('--foreground: the command stays in lock’s process group and still gets forwarded signals', async () => {
    const key = randomKey();
    const log = files.log('foreground');
    const lock = execChild(key, log, ['--foreground'], ['--on-signal-exit', '4']);
    const pid = Number(fieldsOf(await logLine(log, 'start'))['pid']);
    const groupOf = (id: number) =>
      readFileSync(`/proc/${id}/stat`, 'utf8').split(') ')[1]?.split(' ')[2];
    expect(groupOf(pid)).toBe(groupOf(lock.process.pid as number));
    lock.process.kill('SIGINT');
    expect(await lock.exited).toBe(4);
    expect(held(key)).toBe(false);
  });

  it('Ctrl-Z (SIGTSTP) suspends the command with lock; resumed past the TTL, the command is stopped (exit 125)', async () => {
    const key = randomKey();
    const log = files.log('suspended');
    const ttl = 1_500;
    const lock = startLock([
      'exec',
      redis.url,
      key,
      '--ttl',
      `${ttl}ms`,
      '--',
      node,
      CHILD,
      log,
      '--heartbeat',
      '50',
    ]);
    const pid = Number(fieldsOf(await logLine(log, 'start'))['pid']);
    const stateOf = (id: number) => readFileSync(`/proc/${id}/stat`, 'utf8').split(') ')[1]?.[0];
    lock.process.kill('SIGTSTP');
    const deadline = Date.now() + 5_000;
    while (
      (stateOf(pid) !== 'T' || stateOf(lock.process.pid as number) !== 'T') &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect([stateOf(lock.process.pid as number), stateOf(pid)]).toEqual(['T', 'T']);
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ttl + 1_000)); // the lock runs out meanwhile
    const resumedAt = Date.now();
    lock.process.kill('SIGCONT');
    await logLine(log, 'got SIGTERM');
    expect(await lock.exited).toBe(125);
    // Not one heartbeat while suspended: the command did not run on without the lock.
    const beats = readLog(log).filter((line) => line.what === 'beat');
    expect(beats.filter((line) => line.at > stoppedAt + 20 && line.at < resumedAt)).toEqual([]);
    expect(lock.stderr()).toMatch(/lost: lock ".+" was lost \(expired\)/);
  });

  it('a short Ctrl-Z: the command resumes with lock, and the lock is still held', async () => {
    const key = randomKey();
    const log = files.log('paused');
    const lock = execChild(key, log, ['--ttl', '5s'], ['--heartbeat', '50']);
    await logLine(log, 'start');
    lock.process.kill('SIGTSTP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    lock.process.kill('SIGCONT');
    const resumedAt = Date.now();
    while (!readLog(log).some((line) => line.what === 'beat' && line.at > resumedAt)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(held(key)).toBe(true);
    lock.process.kill('SIGTERM');
    expect(await lock.exited).toBe(0);
    expect(lock.stderr()).toBe('');
  });

  it('SIGINT while waiting for the lock: exit 130, the command never starts, the holder keeps it', async () => {
    const key = randomKey();
    const [logA, logB] = [files.log('holder'), files.log('interrupted')];
    const holder = execChild(key, logA);
    await logLine(logA, 'start');
    const waiter = execChild(key, logB);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // started and waiting
    waiter.process.kill('SIGINT');
    expect(await waiter.exited).toBe(130);
    expect(readLog(logB)).toEqual([]);
    expect(held(key)).toBe(true);
    holder.process.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
  });

  it('a command that is not found: exit 127, and the lock is released', async () => {
    const key = randomKey();
    const result = await runLock(['exec', redis.url, key, '--', 'no-such-command-here', 'x']);
    expect(result.stderr).toBe('lock: command not found: "no-such-command-here"\n');
    expect(result.code).toBe(127);
    expect(held(key)).toBe(false);
  });

  it('the URI from LOCK_URL, and the key alone', async () => {
    const key = randomKey();
    const log = files.log('lock-url');
    const result = await runLock(['exec', key, '--', node, CHILD, log, '--exit-after', '0'], {
      env: { LOCK_URL: redis.url },
    });
    expect(result.code).toBe(0);
    expect(fieldsOf(await logLine(log, 'start'))).toMatchObject({ key });
  });
});

(available ? describe : describe.skip)('lock exec on a frozen Redis (SIGSTOP)', () => {
  let redis: RunningServer;
  const files = scratch();

  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis?.resume();
    await redis?.stop();
    files.remove();
  });

  it('reports the lock at risk, then lost by its own clock within one TTL; stops the command; exit 125', async () => {
    const key = randomKey();
    const log = files.log('frozen');
    const ttl = 3_000;
    const lock = startLock(['exec', redis.url, key, '--ttl', `${ttl}ms`, '--', node, CHILD, log]);
    await logLine(log, 'start');
    await redis.pause();
    const pausedAt = Date.now();
    try {
      const term = await logLine(log, 'got SIGTERM');
      expect(term.at - pausedAt).toBeLessThan(ttl);
      expect(await lock.exited).toBe(125);
    } finally {
      await redis.resume();
    }
    const lines = lock.stderr().split('\n');
    const risk = lines.findIndex((line) => line.startsWith('lock: at risk: renewing lock'));
    const lost = lines.findIndex((line) =>
      /^lock: lost: lock ".+" was lost \(expired\)/.test(line),
    );
    expect(risk).toBeGreaterThanOrEqual(0);
    expect(lost).toBeGreaterThan(risk);
  });
});

(available ? describe : describe.skip)('lock and backend failures', () => {
  let redis: RunningServer;
  beforeAll(async () => {
    redis = await startOwnRedis(() => ['--requirepass', 'open-sesame-42']);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a server that is down: exit 69 at once, with the driver’s reason', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runLock(['exec', `redis://127.0.0.1:${port}`, 'k', '--', 'true']);
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/^lock: .*ECONNREFUSED.*\n$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a wrong password: exit 69, and no password in the output', async () => {
    const port = redis.ports[0] as number;
    for (const uri of [
      `redis://:wrong-password-9@127.0.0.1:${port}`,
      `redis://default:wrong-password-9@127.0.0.1:${port}`,
    ]) {
      const result = await runLock(['status', uri, 'k']);
      expect(result.code).toBe(69);
      expect(result.stderr).toMatch(/WRONGPASS|NOAUTH|auth/i);
      expect(result.stderr).not.toContain('wrong-password-9');
    }
    const right = await runLock(['status', `redis://:open-sesame-42@127.0.0.1:${port}`, 'k']);
    expect(right.code).toBe(1);
  });
});
