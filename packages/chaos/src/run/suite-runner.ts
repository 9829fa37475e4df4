import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChaosArgs } from '../cli/args.js';
import { NetLab } from '../harness/netlab.js';
import { scenarioNamed } from '../plan/scenarios.js';
import type { PlannedRun, SuitePlan } from '../plan/suite.js';
import { targetNamed } from '../plan/targets.js';
import { variantClient } from '../plan/variants.js';
import { formatRunLine, replayCommand } from '../report/line.js';
import { renderReport, type VariantSummary, variantOk } from '../report/markdown.js';
import { deriveSeed } from '../seeded-random.js';
import { bundlePrograms } from './bundle.js';
import { type RunOutcome, runOnce } from './run-once.js';

/** Runs a planned suite, prints one line per run, writes the report; resolves the exit code. */
export async function runSuite(
  args: ChaosArgs,
  plan: SuitePlan,
  command: string,
  sourceDir: string,
): Promise<number> {
  const startedAt = new Date();
  const started = performance.now();
  mkdirSync(args.out, { recursive: true });
  for (const skip of plan.skipped) console.warn(`*** SKIPPING ${skip.what}: ${skip.why} ***`);
  if (NetLab.available().ok) await NetLab.removeStale();
  const bundle = await bundlePrograms(sourceDir);
  const scenarios: RunOutcome[] = [];
  const variants = new Map<
    string,
    { variant: VariantSummary['variant']; flawed: RunOutcome[]; control: RunOutcome[] }
  >();
  console.log(
    `chaos: ${args.soakMs === undefined ? `${plan.runs.length} runs` : `soak for ${Math.round(args.soakMs / 60_000)} min`}, master seed ${plan.masterSeed}, ${args.workers} workers per run`,
  );
  try {
    let round = 0;
    for (;;) {
      for (const planned of plan.runs) {
        if (args.soakMs !== undefined && performance.now() - started > args.soakMs) break;
        const run =
          args.soakMs === undefined || round === 0
            ? planned
            : reseed(planned, plan.masterSeed, round);
        const outcome = await execute(run, args, bundle);
        if (run.kind === 'scenario') {
          scenarios.push(outcome);
          console.log(formatRunLine(outcome));
          if (outcome.judged.verdict === 'fail' || outcome.judged.verdict === 'error') {
            console.log(
              `      replay: ${replayCommand(outcome)}${outcome.logDir ? ` · logs: ${outcome.logDir}` : ''}`,
            );
          }
        } else {
          const entry = variants.get(run.variant.id) ?? {
            variant: run.variant,
            flawed: [],
            control: [],
          };
          (run.flawed ? entry.flawed : entry.control).push(outcome);
          variants.set(run.variant.id, entry);
          const caught =
            outcome.results.find((r) => r.checker === run.variant.checker)?.findings.length ?? 0;
          console.log(
            `${run.flawed ? (caught > 0 ? 'CAUGHT' : 'MISSED') : caught > 0 ? 'FALSE+' : 'CLEAN '} variant ${run.variant.id.padEnd(28)} ${run.flawed ? 'flawed ' : 'control'} ${run.variant.checker}: ${caught} finding${caught === 1 ? '' : 's'} · seed ${outcome.seed} · ${Math.round(outcome.wallMs / 100) / 10} s${outcome.error ? ` · harness error: ${outcome.error}` : ''}`,
          );
          if ((run.flawed && caught === 0) || (!run.flawed && caught > 0)) {
            console.log(
              `      replay: ${replayCommand(outcome, { id: run.variant.id, flawed: run.flawed })}`,
            );
          }
        }
      }
      round++;
      if (args.soakMs === undefined || performance.now() - started > args.soakMs) break;
    }
  } finally {
    bundle.dispose();
  }

  const summaries = [...variants.values()];
  for (const summary of summaries) {
    const caught = summary.flawed.filter(
      (r) =>
        (r.results.find((c) => c.checker === summary.variant.checker)?.findings.length ?? 0) > 0,
    ).length;
    console.log(
      `variant ${summary.variant.id}: caught by ${summary.variant.checker} in ${caught}/${summary.flawed.length} runs; control flagged in ${summary.control.filter((r) => (r.results.find((c) => c.checker === summary.variant.checker)?.findings.length ?? 0) > 0).length}/${summary.control.length} → ${variantOk(summary) ? 'ok' : 'NOT OK'}`,
    );
  }
  const report = renderReport({
    title: args.smoke
      ? 'Chaos suite: smoke set'
      : args.soakMs !== undefined
        ? 'Chaos suite: soak'
        : 'Chaos suite report',
    startedAt,
    wallMs: performance.now() - started,
    masterSeed: plan.masterSeed,
    command,
    scenarios,
    variants: summaries,
    skipped: plan.skipped,
  });
  const reportPath = join(args.out, 'report.md');
  writeFileSync(reportPath, report);
  writeFileSync(
    join(args.out, 'results.json'),
    JSON.stringify({ scenarios, variants: summaries }, null, 1),
  );
  if (args.report !== undefined) {
    mkdirSync(dirname(args.report), { recursive: true });
    writeFileSync(args.report, report);
  }
  const failed = scenarios.filter(
    (r) => r.judged.verdict === 'fail' || r.judged.verdict === 'error',
  );
  const badVariants = summaries.filter((s) => !variantOk(s));
  console.log(
    `\n${scenarios.length} scenario runs: ${count(scenarios, 'pass')} pass, ${count(scenarios, 'known-limit')} known limit, ${count(scenarios, 'known-bug')} known bug, ${count(scenarios, 'fail')} fail, ${count(scenarios, 'error')} error; ${summaries.length} variants, ${badVariants.length} not caught reliably. Report: ${reportPath} (${Math.round((performance.now() - started) / 1_000)} s)`,
  );
  return failed.length > 0 || badVariants.length > 0 ? 1 : 0;
}

function count(runs: readonly RunOutcome[], verdict: RunOutcome['judged']['verdict']): number {
  return runs.filter((r) => r.judged.verdict === verdict).length;
}

function reseed(run: PlannedRun, masterSeed: number, round: number): PlannedRun {
  if (run.kind !== 'scenario') return run;
  return { ...run, seed: deriveSeed(masterSeed, `${run.target.name}/${run.scenario.id}/${round}`) };
}

function execute(
  run: PlannedRun,
  args: ChaosArgs,
  bundle: Awaited<ReturnType<typeof bundlePrograms>>,
): Promise<RunOutcome> {
  if (run.kind === 'scenario') {
    return runOnce({
      target: run.target,
      scenario: run.scenario,
      seed: run.seed,
      client: { kind: 'core', flaws: [], wrappers: [], pollIntervalMs: run.target.pollIntervalMs },
      workers: args.workers,
      runDir: join(args.out, 'runs', `${run.target.name}-${run.scenario.id}-${run.seed}`),
      bundle,
      ...(run.durationMs === undefined ? {} : { durationMs: run.durationMs }),
      keepLogs: args.keepLogs,
    });
  }
  const target = targetNamed('redis');
  const scenario = scenarioNamed(run.variant.scenario);
  return runOnce({
    target,
    scenario,
    seed: run.seed,
    client: variantClient(run.variant, run.flawed, target.pollIntervalMs),
    rawRedis: run.variant.rawRedis,
    workers: args.workers,
    runDir: join(
      args.out,
      'runs',
      `variant-${run.variant.id}-${run.flawed ? 'flawed' : 'control'}-${run.seed}`,
    ),
    bundle,
    durationMs: run.variant.durationMs,
    keepLogs: args.keepLogs,
  });
}
