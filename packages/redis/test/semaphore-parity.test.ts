import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  decideSemaphore,
  describeSemaphore,
  RW_PERMITS,
  type SemaphoreAcquireRequest,
  type SemaphoreMode,
  type SemaphoreState,
} from '@lock/core';
import { type RunningServer, randomKey, randomNamespace, sleep } from '@lock/testkit';
import { createClient } from 'redis';
import { RedisSemaphores } from '../src/redis-semaphores.js';
import type { LockScript } from '../src/scripts.js';
import { redisAvailable, startRedis } from './redis-server.js';

const available = redisAvailable();

/** mulberry32: a seeded generator, so a failing sequence can be replayed from its seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

(available ? describe : describe.skip)('redis semaphore scripts against decideSemaphore', () => {
  let server: RunningServer;
  let client: ReturnType<typeof createClient>;
  let semaphores: RedisSemaphores;

  beforeAll(async () => {
    server = await startRedis();
    client = createClient({ url: server.url });
    await client.connect();
    const run = (script: LockScript, keys: readonly string[], argv: readonly string[]) =>
      client.sendCommand(['EVAL', script.SCRIPT, String(keys.length), ...keys, ...argv]);
    semaphores = new RedisSemaphores(run, `${randomNamespace()}:`, () => false);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  /**
   * Random requests on one key (acquire with and without waiting, extend, release, inspect,
   * requests of the other kind or another permit count, TTLs short enough to expire between
   * requests) go through the scripts; each reply and the server's clock reading it carries are
   * checked against decideSemaphore applied to the model's state at that same instant.
   */
  async function replay(seed: number, steps: number): Promise<void> {
    const random = generator(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const key = randomKey();
    const owners = Array.from({ length: 6 }, (_, i) => `o${i}.${seed}`);
    const permits = 1 + Math.floor(random() * 4);
    let state: SemaphoreState | undefined;
    const log: string[] = [];
    for (let step = 0; step < steps; step += 1) {
      const owner = pick(owners);
      const ttlMs = 5 + Math.floor(random() * 60);
      const roll = random();
      const context = () => `seed ${seed}, step ${step}:\n${log.slice(-12).join('\n')}`;
      if (roll < 0.55) {
        const kindRoll = random();
        const mode: SemaphoreMode = kindRoll < 0.85 ? 'permit' : kindRoll < 0.93 ? 'read' : 'write';
        const asked = mode === 'permit' ? (random() < 0.9 ? permits : permits + 1) : RW_PERMITS;
        const count =
          mode === 'permit' ? 1 + Math.floor(random() * asked) : mode === 'read' ? 1 : RW_PERMITS;
        const request: SemaphoreAcquireRequest = {
          key,
          owner,
          mode,
          count,
          permits: asked,
          ttlMs,
          wait: random() < 0.6,
        };
        const { result, now } = await semaphores.acquire(request);
        const decision = decideSemaphore(state, { op: 'acquire', request }, now);
        log.push(`${now} acquire ${JSON.stringify(request)} → ${JSON.stringify(result)}`);
        expect({ reply: result, context: context() }).toEqual({
          reply: decision.reply,
          context: context(),
        });
        state = decision.state;
      } else if (roll < 0.7) {
        const { result, now } = await semaphores.extend({ key, owner, ttlMs });
        const decision = decideSemaphore(state, { op: 'extend', owner, ttlMs }, now);
        log.push(`${now} extend ${owner} ${ttlMs} → ${result}`);
        expect({ reply: result, context: context() }).toEqual({
          reply: decision.reply,
          context: context(),
        });
        state = decision.state;
      } else if (roll < 0.9) {
        const { result, now } = await semaphores.release({ key, owner });
        const decision = decideSemaphore(state, { op: 'release', owner }, now);
        log.push(`${now} release ${owner} → ${result}`);
        expect({ reply: result, context: context() }).toEqual({
          reply: decision.reply,
          context: context(),
        });
        state = decision.state;
      } else {
        const { result, now } = await semaphores.inspect(key);
        log.push(`${now} inspect → ${JSON.stringify(result)}`);
        expect({ reply: result, context: context() }).toEqual({
          reply: describeSemaphore(state, now),
          context: context(),
        });
      }
      if (random() < 0.7) await sleep(Math.floor(random() * 12));
    }
  }

  it('give the same replies and fences as the reference rules, over random request sequences', async () => {
    const base = Math.floor(Math.random() * 1e9);
    for (let run = 0; run < 24; run += 1) await replay(base + run, 80);
  }, 120_000);
});
