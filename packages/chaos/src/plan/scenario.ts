import type { CheckerName } from '../checkers/types.js';
import type { RunContext } from '../run/run-context.js';
import type { Workload } from '../worker/protocol.js';
import type { ServerOptions, TargetDef, TargetName } from './targets.js';

/** A finding a scenario allows on a target, because the backend documents it as its limit. */
export interface KnownLimit {
  readonly checkers: readonly CheckerName[];
  /** What the backend's README says about it. */
  readonly reason: string;
}

/** One scenario: a workload, the faults its nemesis makes, and what the checkers may expect. */
export interface ScenarioDef {
  readonly id: string;
  /** One sentence: what happens. */
  readonly summary: string;
  /** Targets it applies to. */
  readonly targets: readonly TargetName[];
  /** How long the faults run (ms), before the heal. */
  readonly durationMs: number;
  readonly servers?: ServerOptions;
  /** Changes to the target's base workload. */
  readonly workload?: (base: Workload, target: TargetDef) => Workload;
  /** Whether locks may be lost (otherwise every `lost` is a finding). */
  readonly lossExpected: boolean;
  /** Bound on the hand-over from a release to a waiting worker (ms), when judged. */
  readonly handoverBoundMs?: number;
  /** Judge the takeover times of killed holders. */
  readonly takeover?: boolean;
  /** Findings this scenario allows per target (documented limits of that backend). */
  readonly knownLimits?: Partial<Record<TargetName, KnownLimit>>;
  /** The nemesis: makes faults until `context.signal` aborts. */
  readonly nemesis: (context: RunContext) => Promise<void>;
}

/** The workload every scenario starts from: four workers on two keys, short holds. */
export function baseWorkload(target: TargetDef): Workload {
  return {
    keys: ['k1', 'k2'],
    ttlMs: target.ttlMs,
    lockTimeoutMs: 2 * target.ttlMs,
    holdMs: [100, 600],
    stepMs: [20, 60],
    thinkMs: [0, 80],
    tryLockRatio: 0.15,
    extendRatio: 0.03,
  };
}
