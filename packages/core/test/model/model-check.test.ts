// A deterministic model check of core (issue #9): random programs of user calls, network schedule
// choices and clock moves, run over a simulated backend that delays, reorders, replays, loses and
// fails requests and replies, with every step checked against a reference mutex with fences and
// TTLs (invariants.ts). `LOCK_MODEL_RUNS` sets the number of random programs (default 10,000).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type Program, programArb } from './program.js';
import { REGRESSIONS } from './regressions.js';
import { runProgram } from './run-program.js';

const RUNS = Number(process.env['LOCK_MODEL_RUNS'] ?? 10_000);
/** Longest program. Changing it (or the generators) changes what a seed and path replay. */
const MAX_STEPS = 100;

/** Runs `program`; on a violation, replays it with a trace so the failure shows what happened. */
async function holds(program: Program): Promise<void> {
  const outcome = await runProgram(program);
  if (outcome.violations.length === 0) return;
  const traced = await runProgram(program, true);
  throw new Error(
    [
      ...outcome.violations,
      '--- trace of the replay ---',
      ...(traced.trace ?? []).slice(-300),
    ].join('\n'),
  );
}

const property = fc.asyncProperty(programArb(MAX_STEPS), holds);

describe('model check of core (simulated backend, manual clock)', () => {
  it(
    `holds for ${RUNS} random programs`,
    async () => {
      await fc.assert(property, { numRuns: RUNS });
    },
    15 * 60_000,
  );

  describe.each(REGRESSIONS)('regression: $name', ({ seed, path, program }) => {
    it('holds for the shrunk program', async () => {
      expect((await runProgram(program)).violations).toEqual([]);
    });

    it(`holds when replayed from seed ${seed}`, async () => {
      await fc.assert(property, { seed, path, endOnFailure: true });
    });
  });
});

describe('model check: the check itself', () => {
  it('reports two holders when the store drops keys earlier than the drift margin allows', async () => {
    const program: Program = {
      config: {
        lockers: 2,
        lockerTtls: [150],
        keepalive: [false],
        keys: 1,
        extendMany: false,
        watch: false,
        shrink: 3,
        opTimeoutMs: 60,
        randomSeed: 1,
      },
      steps: [
        { t: 'tryLock', actor: 0, key: 0 },
        { t: 'flush' },
        { t: 'advance', ms: 120, healthy: true },
      ],
    };
    const { violations } = await runProgram(program);
    expect(violations.join('\n')).toMatch(
      /held with certainty until [\d.]+, but the store drops it/,
    );
  });

  it('is deterministic: a program replays to the same trace', async () => {
    const programs = fc.sample(programArb(MAX_STEPS), { numRuns: 10, seed: 42 });
    const program = programs.reduce((a, b) => (b.steps.length > a.steps.length ? b : a));
    const first = await runProgram(program, true);
    const second = await runProgram(program, true);
    const withoutTokens = (trace: readonly string[] | undefined) =>
      (trace ?? []).map((line) => line.replace(/\.[\w-]{4,}/g, '.…'));
    expect(withoutTokens(second.trace)).toEqual(withoutTokens(first.trace));
    expect(first.trace?.length).toBeGreaterThan(100);
  });
});
