import { describe, expect, it } from '@jest/globals';
import { parseChaosArgs } from '../src/cli/args.js';
import { parseDuration } from '../src/cli/duration.js';
import { SCENARIOS } from '../src/plan/scenarios.js';
import { planSuite } from '../src/plan/suite.js';
import { TARGETS } from '../src/plan/targets.js';
import { VARIANTS, type VariantDef } from '../src/plan/variants.js';
import type { KnownFailure } from '../src/report/known-failures.js';
import { variantOk } from '../src/report/markdown.js';
import { judge } from '../src/report/verdict.js';
import type { RunOutcome } from '../src/run/run-once.js';
import { deriveSeed, SeededRandom } from '../src/seeded-random.js';

const args = (...argv: string[]) => parseChaosArgs(argv, '/tmp/chaos-test-out');

describe('command line', () => {
  it('reads durations, with minutes for a bare number, and names a bad one', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2')).toBe(120_000);
    expect(() => parseDuration('soon')).toThrow('"soon" is not a duration');
  });

  it('rejects an unknown option and a bad count', () => {
    expect(() => args('--nope')).toThrow();
    expect(() => args('--runs', 'two')).toThrow('--runs must be a whole number');
  });
});

describe('the suite plan', () => {
  it('runs every scenario on every backend it applies to, then every variant with its controls', () => {
    const plan = planSuite(args(), 1);
    const scenarioRuns =
      plan.runs.filter((r) => r.kind === 'scenario').length + plan.skipped.length;
    const expected = SCENARIOS.reduce((n, s) => n + s.targets.length, 0);
    expect(scenarioRuns).toBe(expected);
    expect(plan.runs.filter((r) => r.kind === 'variant' && r.flawed)).toHaveLength(7 * 20);
  });

  it('replays exactly one run from a seed', () => {
    const plan = planSuite(
      args('--backend', 'redis', '--scenario', 'holder-kill', '--seed', '42'),
      1,
    );
    expect(plan.runs).toHaveLength(plan.skipped.length > 0 ? 0 : 1);
    expect(plan.runs[0]?.seed ?? 42).toBe(42);
    const variant = planSuite(args('--variant', 'no-fencing', '--seed', '7', '--control'), 1);
    expect(variant.runs.map((r) => (r.kind === 'variant' ? [r.flawed, r.seed] : r.kind))).toEqual(
      variant.skipped.length > 0 ? [] : [[false, 7]],
    );
  });

  it('keeps the smoke set small: every backend, each once with no fault', () => {
    const plan = planSuite(args('--smoke'), 1);
    const contention = plan.runs.filter(
      (r) => r.kind === 'scenario' && r.scenario.id === 'contention',
    );
    expect(
      contention.length + plan.skipped.filter((s) => s.what.endsWith('contention')).length,
    ).toBe(TARGETS.length);
    expect(plan.runs.length).toBeLessThanOrEqual(20);
  });

  it('derives a different, stable seed for each run', () => {
    expect(deriveSeed(1, 'redis/contention/0')).toBe(deriveSeed(1, 'redis/contention/0'));
    expect(deriveSeed(1, 'redis/contention/0')).not.toBe(deriveSeed(1, 'redis/contention/1'));
    expect(deriveSeed(1, 'x')).not.toBe(deriveSeed(2, 'x'));
    const a = new SeededRandom(5);
    const b = new SeededRandom(5);
    const draws = Array.from({ length: 20 }, () => a.int(0, 1_000));
    expect(Array.from({ length: 20 }, () => b.int(0, 1_000))).toEqual(draws);
  });
});

describe('verdicts', () => {
  const scenario = SCENARIOS.find((s) => s.id === 'restart-volatile');
  const overlap = {
    checker: 'overlap' as const,
    findings: [{ checker: 'overlap' as const, message: 'two holders' }],
    figures: {},
  };

  it('calls an overlap a documented limit where the scenario allows it, and a failure elsewhere', () => {
    if (scenario === undefined) throw new Error('restart-volatile is missing');
    expect(judge('redis', scenario, [overlap]).verdict).toBe('known-limit');
    const contention = SCENARIOS.find((s) => s.id === 'contention');
    if (contention === undefined) throw new Error('contention is missing');
    expect(judge('redis', contention, [overlap]).verdict).toBe('fail');
    expect(judge('redis', contention, []).verdict).toBe('pass');
  });
});

describe('known failures', () => {
  const contention = SCENARIOS.find((s) => s.id === 'contention');
  const socketLeft = {
    checker: 'call-bounds' as const,
    message: 'w1 still had TCPSocketWrap after close()',
  };
  const slowLock = {
    checker: 'call-bounds' as const,
    message: `w1's lock of "k1" took 9000 ms of running time, over its bound of 3000 ms`,
  };
  /** A list of its own, so the test does not depend on which real bugs are still open. */
  const sample: KnownFailure[] = [
    {
      targets: ['etcd'],
      scenarios: 'all',
      checker: 'call-bounds',
      issue: 'sample: close() leaves a socket open',
      matches: (f) => f.message.endsWith('after close()'),
    },
  ];

  it('explains a run only when every finding of the checker matches a known bug', () => {
    if (contention === undefined) throw new Error('contention is missing');
    const known = judge(
      'etcd',
      contention,
      [{ checker: 'call-bounds', findings: [socketLeft], figures: {} }],
      sample,
    );
    expect(known.verdict).toBe('known-bug');
    expect(known.notes[0]?.why).toContain('close() leaves a socket open');
    const unexplained = judge(
      'etcd',
      contention,
      [{ checker: 'call-bounds', findings: [socketLeft, slowLock], figures: {} }],
      sample,
    );
    expect(unexplained.verdict).toBe('fail');
    // The same finding on a backend the entry does not name is a failure.
    expect(
      judge(
        'redis',
        contention,
        [{ checker: 'call-bounds', findings: [socketLeft], figures: {} }],
        sample,
      ).verdict,
    ).toBe('fail');
  });

  it('no longer excuses a socket left open after close() on etcd (fixed)', () => {
    if (contention === undefined) throw new Error('contention is missing');
    for (const target of ['etcd', 'etcd-cluster'] as const) {
      const results = [{ checker: 'call-bounds' as const, findings: [socketLeft], figures: {} }];
      expect(judge(target, contention, results).verdict).toBe('fail');
    }
  });

  it('no longer excuses the bugs of issue #8 that are fixed (late loss, lock over its timeout, keepalive over a shorter extend)', () => {
    if (contention === undefined) throw new Error('contention is missing');
    const lateLoss = {
      checker: 'loss-timing' as const,
      message:
        'w1#1 was told of the loss of "k1" 2.00 ms after its own validity ended (reason expired)',
    };
    expect(
      judge('redis', contention, [{ checker: 'loss-timing', findings: [lateLoss], figures: {} }])
        .verdict,
    ).toBe('fail');
    expect(
      judge('redis', contention, [{ checker: 'call-bounds', findings: [slowLock], figures: {} }])
        .verdict,
    ).toBe('fail');
  });
});

describe('variant detection', () => {
  const variant = VARIANTS[0] as VariantDef;
  const run = (caught: boolean) =>
    ({
      results: [
        {
          checker: variant.checker,
          findings: caught ? [{ checker: variant.checker, message: 'x' }] : [],
          figures: {},
        },
      ],
    }) as unknown as RunOutcome;
  const summary = (flawed: boolean[], control: boolean[] = []) => ({
    variant,
    flawed: flawed.map(run),
    control: control.map(run),
  });

  it('needs 95 % over a full sample, and all but one (at least one) over a small one', () => {
    expect(variantOk(summary([...Array(19).fill(true), false]))).toBe(true);
    expect(variantOk(summary([...Array(18).fill(true), false, false]))).toBe(false);
    expect(variantOk(summary([true, false]))).toBe(true);
    expect(variantOk(summary([false, false]))).toBe(false);
    expect(variantOk(summary([true, false, false]))).toBe(false);
    expect(variantOk(summary([true, true], [true]))).toBe(false);
  });
});
