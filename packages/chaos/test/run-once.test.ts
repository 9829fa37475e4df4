// The harness end to end on the in-process backend (no server needed): real worker processes,
// the fenced resource, the nemesis loop, the probe, the merged logs and the checkers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { scenarioNamed } from '../src/plan/scenarios.js';
import { targetNamed } from '../src/plan/targets.js';
import { figuresOf, findingsOf } from '../src/report/figures.js';
import { type Bundle, bundlePrograms } from '../src/run/bundle.js';
import { runOnce } from '../src/run/run-once.js';

let bundle: Bundle;
let out: string;

beforeAll(async () => {
  bundle = await bundlePrograms(join(__dirname, '../src'));
  out = mkdtempSync(join(tmpdir(), 'lock-chaos-test-'));
}, 60_000);

afterAll(() => {
  bundle.dispose();
  rmSync(out, { recursive: true, force: true });
});

describe('one run on the in-process backend', () => {
  it('passes with @lock/core under contention, with holds, fenced writes and the probe', async () => {
    const target = targetNamed('local');
    const outcome = await runOnce({
      target,
      scenario: scenarioNamed('contention'),
      seed: 11,
      client: { kind: 'core', flaws: [], wrappers: [], pollIntervalMs: target.pollIntervalMs },
      workers: 3,
      runDir: join(out, 'core'),
      bundle,
      durationMs: 1_500,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.judged.verdict).toBe('pass');
    expect(figuresOf(outcome.results, 'overlap')['windows']).toBeGreaterThan(3);
    expect(figuresOf(outcome.results, 'fences')['accepted']).toBeGreaterThan(3);
    expect(figuresOf(outcome.results, 'liveness')['worstMs']).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('catches a client whose grants all carry the same fence', async () => {
    const target = targetNamed('local');
    const outcome = await runOnce({
      target,
      scenario: scenarioNamed('contention'),
      seed: 12,
      client: {
        kind: 'mini',
        flaws: [],
        wrappers: ['no-fencing'],
        pollIntervalMs: target.pollIntervalMs,
      },
      workers: 3,
      runDir: join(out, 'flawed'),
      bundle,
      durationMs: 1_500,
    });
    expect(outcome.error).toBeUndefined();
    expect(findingsOf(outcome.results, 'fences')).toBeGreaterThan(0);
    expect(outcome.judged.verdict).toBe('fail');
  }, 60_000);
});
