import type { CheckerName } from '../checkers/types.js';
import type { BackendFlaw, ClientConfig, ClientFlaw } from '../worker/protocol.js';

/**
 * A deliberately broken library and the checker that must catch it: the proof that each checker
 * can see what it is meant to see. Every variant runs on Redis with the small client of
 * `variants/` (a correct one is the control), in the scenario that exposes its flaw.
 */
export interface VariantDef {
  readonly id: string;
  readonly summary: string;
  /** The checker that must find it in ≥ 95 % of runs. */
  readonly checker: CheckerName;
  readonly scenario: string;
  readonly clientFlaws: readonly ClientFlaw[];
  readonly backendFlaws: readonly BackendFlaw[];
  /** Runs on the raw node-redis store (no deadlines of its own, optional unconditional delete). */
  readonly rawRedis: boolean;
  /** How long each run's faults last (ms): long enough for two or three chances to show. */
  readonly durationMs: number;
}

/** Every variant. */
export const VARIANTS: readonly VariantDef[] = [
  {
    id: 'unconditional-delete',
    summary: 'release deletes the key whoever holds it',
    checker: 'overlap',
    scenario: 'delayed-release',
    clientFlaws: [],
    backendFlaws: ['unconditional-delete'],
    rawRedis: true,
    durationMs: 8_000,
  },
  {
    id: 'no-fencing',
    summary: 'every grant carries the same fence',
    checker: 'fences',
    scenario: 'contention',
    clientFlaws: [],
    backendFlaws: ['no-fencing'],
    rawRedis: false,
    durationMs: 5_000,
  },
  {
    id: 'validity-from-reply',
    summary: 'validity counted from when the reply arrived, not when the request left',
    checker: 'overlap',
    scenario: 'slow-then-cut',
    clientFlaws: ['validity-from-reply'],
    backendFlaws: [],
    rawRedis: false,
    durationMs: 9_000,
  },
  {
    id: 'slow-poll-loss',
    summary: 'loss noticed only by a poll every two TTLs, no loss timer',
    checker: 'loss-timing',
    scenario: 'holder-partition',
    clientFlaws: ['slow-poll-loss'],
    backendFlaws: [],
    rawRedis: false,
    durationMs: 6_000,
  },
  {
    id: 'keepalive-overwrites-extend',
    summary: 'a keepalive confirmation overwrites a shorter extend sent after it',
    checker: 'overlap',
    scenario: 'keepalive-extend-race',
    clientFlaws: ['keepalive-overwrites-extend'],
    backendFlaws: [],
    rawRedis: false,
    durationMs: 6_000,
  },
  {
    id: 'no-deadline',
    summary: 'no deadline of its own: waits on the driver, which waits on a frozen server',
    checker: 'call-bounds',
    scenario: 'server-pause',
    clientFlaws: ['no-deadline'],
    backendFlaws: [],
    rawRedis: true,
    durationMs: 6_000,
  },
  {
    id: 'no-expiry',
    summary: 'the store keeps locks 1000 × longer than asked, so a crashed holder blocks the key',
    checker: 'liveness',
    scenario: 'holder-kill',
    clientFlaws: [],
    backendFlaws: ['no-expiry'],
    rawRedis: false,
    durationMs: 6_000,
  },
];

/** The client config of `variant` (flawed), or of its control (the same client, no flaws). */
export function variantClient(
  variant: VariantDef,
  flawed: boolean,
  pollIntervalMs: number,
): ClientConfig {
  return {
    kind: 'mini',
    flaws: flawed ? variant.clientFlaws : [],
    wrappers: flawed ? variant.backendFlaws : [],
    pollIntervalMs,
  };
}

/** The variant called `id`. */
export function variantNamed(id: string): VariantDef {
  const variant = VARIANTS.find((v) => v.id === id);
  if (variant === undefined) {
    throw new Error(`unknown variant "${id}": one of ${VARIANTS.map((v) => v.id).join(', ')}`);
  }
  return variant;
}
