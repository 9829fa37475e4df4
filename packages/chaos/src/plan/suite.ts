import { hasCommand, isCI } from '@lock/testkit/servers';
import type { ChaosArgs } from '../cli/args.js';
import { NetLab } from '../harness/netlab.js';
import { deriveSeed } from '../seeded-random.js';
import type { ScenarioDef } from './scenario.js';
import { SCENARIOS, scenarioNamed } from './scenarios.js';
import { TARGETS, type TargetDef, targetNamed } from './targets.js';
import { VARIANTS, type VariantDef, variantNamed } from './variants.js';

/** One run the suite will make. */
export type PlannedRun =
  | {
      readonly kind: 'scenario';
      readonly target: TargetDef;
      readonly scenario: ScenarioDef;
      readonly seed: number;
      readonly durationMs?: number;
    }
  | {
      readonly kind: 'variant';
      readonly variant: VariantDef;
      readonly flawed: boolean;
      readonly seed: number;
    };

/** A part of the suite this machine cannot run, and why. */
export interface Skipped {
  readonly what: string;
  readonly why: string;
}

/** The suite: the runs to make, and what had to be left out. */
export interface SuitePlan {
  readonly runs: readonly PlannedRun[];
  readonly skipped: readonly Skipped[];
  readonly masterSeed: number;
}

/** The smoke set CI runs: a few minutes, every backend, one fault each kind, three variants. */
const SMOKE: readonly { target: string; scenario: string; durationMs: number }[] = [
  { target: 'local', scenario: 'contention', durationMs: 3_000 },
  { target: 'local', scenario: 'keepalive-extend-race', durationMs: 5_000 },
  { target: 'redis', scenario: 'contention', durationMs: 3_000 },
  { target: 'redis', scenario: 'holder-pause-long', durationMs: 6_000 },
  { target: 'redlock', scenario: 'contention', durationMs: 3_000 },
  { target: 'memcached', scenario: 'contention', durationMs: 3_000 },
  { target: 'memcached', scenario: 'holder-kill', durationMs: 8_000 },
  { target: 'etcd', scenario: 'contention', durationMs: 3_000 },
  { target: 'etcd', scenario: 'server-pause', durationMs: 6_000 },
  { target: 'etcd-cluster', scenario: 'contention', durationMs: 3_000 },
];
const SMOKE_VARIANTS: readonly string[] = ['no-fencing', 'unconditional-delete', 'slow-poll-loss'];
/** How long each soak run lasts. */
const SOAK_RUN_MS = 60_000;

/** Why `target` (or a scenario needing a network lab) cannot run here, if it cannot. */
export function unavailable(target: TargetDef, scenario?: ScenarioDef): string | undefined {
  const missing = target.commands.filter((command) => !hasCommand(command));
  if (missing.length > 0)
    return `${missing.join(', ')} not installed (scripts/install-test-servers.sh)`;
  if (scenario?.servers?.netns) {
    const lab = NetLab.available();
    if (!lab.ok) return lab.why;
  }
  return undefined;
}

/** Plans the runs `args` ask for. */
export function planSuite(args: ChaosArgs, masterSeed: number): SuitePlan {
  const runs: PlannedRun[] = [];
  const skipped: Skipped[] = [];
  const seedOf = (label: string) => args.seed ?? deriveSeed(masterSeed, label);
  const wanted = (target: TargetDef, scenario: ScenarioDef) => {
    const why = unavailable(target, scenario);
    if (why === undefined) return true;
    skipped.push({ what: `${target.name} / ${scenario.id}`, why });
    return false;
  };
  const targets = (args.backends ?? TARGETS.map((t) => t.name)).map(targetNamed);
  const scenarios = (args.scenarios ?? SCENARIOS.map((s) => s.id)).map(scenarioNamed);

  if (args.soakMs !== undefined) {
    // The soak plan is open-ended: the runner repeats these rounds until the time is up.
    for (const target of targets) {
      const random = scenarioNamed('random');
      if (random.targets.includes(target.name) && wanted(target, random)) {
        runs.push({
          kind: 'scenario',
          target,
          scenario: random,
          seed: seedOf(`${target.name}/random/0`),
          durationMs: SOAK_RUN_MS,
        });
      }
    }
    return { runs, skipped, masterSeed };
  }

  const filtered = args.backends !== undefined || args.scenarios !== undefined;
  // `--variants` or `--variant x` alone means the variants only.
  const onlyVariants = args.withVariants === true && !filtered && !args.smoke;
  const withVariants = args.withVariants ?? !filtered;
  if (args.smoke) {
    for (const entry of SMOKE) {
      const target = targetNamed(entry.target);
      const scenario = scenarioNamed(entry.scenario);
      if (!targets.includes(target) || !scenarios.includes(scenario) || !wanted(target, scenario))
        continue;
      runs.push({
        kind: 'scenario',
        target,
        scenario,
        seed: seedOf(`${target.name}/${scenario.id}/0`),
        durationMs: entry.durationMs,
      });
    }
  } else if (!onlyVariants) {
    for (const target of targets) {
      for (const scenario of scenarios) {
        if (!scenario.targets.includes(target.name) || !wanted(target, scenario)) continue;
        for (let i = 0; i < (args.runs ?? 1); i++) {
          runs.push({
            kind: 'scenario',
            target,
            scenario,
            seed: seedOf(`${target.name}/${scenario.id}/${i}`),
          });
        }
      }
    }
  }

  if (withVariants) {
    const redis = targetNamed('redis');
    const why = unavailable(redis);
    const chosen = (args.variants ?? (args.smoke ? SMOKE_VARIANTS : VARIANTS.map((v) => v.id))).map(
      variantNamed,
    );
    if (why !== undefined) {
      skipped.push({ what: 'variant detection (runs on Redis)', why });
    } else {
      const replay = args.seed !== undefined;
      const flawedRuns = replay
        ? args.control
          ? 0
          : 1
        : (args.variantRuns ?? (args.smoke ? 2 : 20));
      const controlRuns = replay ? (args.control ? 1 : 0) : Math.max(1, Math.ceil(flawedRuns / 4));
      for (const variant of chosen) {
        for (let i = 0; i < flawedRuns; i++) {
          runs.push({
            kind: 'variant',
            variant,
            flawed: true,
            seed: seedOf(`variant/${variant.id}/${i}`),
          });
        }
        if (args.smoke && !replay) continue;
        for (let i = 0; i < controlRuns; i++) {
          runs.push({
            kind: 'variant',
            variant,
            flawed: false,
            seed: seedOf(`control/${variant.id}/${i}`),
          });
        }
      }
    }
  }
  if (isCI && skipped.length > 0) {
    throw new Error(
      `under CI nothing may be skipped: ${skipped.map((s) => `${s.what} (${s.why})`).join('; ')}`,
    );
  }
  return { runs, skipped, masterSeed };
}
