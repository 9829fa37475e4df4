// Random programs for the model check: a configuration (lockers, TTLs, backend features, how
// fast the server's clock runs) and a list of steps: user calls, network schedule choices and
// clock moves, interleaved at random. Steps name lockers, locks and calls by index, taken modulo
// what exists when the step runs, so any list of steps is a valid program and shrinks well.
import fc from 'fast-check';
import type { NetAction } from './sim-network.js';

/** TTLs a locker or a lock may be given (each leaves certain validity after the margins). */
export const TTLS = [40, 150, 600] as const;
/** TTLs `extend()` may ask for; `undefined` keeps the lock's own. Some are below a locker's TTL. */
export const EXTEND_TTLS = [undefined, 25, 40, 150, 600, 2_000] as const;

/** The fixed facts of one run. */
export interface Config {
  /** Root lockers, each on its own connection. */
  readonly lockers: number;
  /** Each root locker's default TTL (index modulo). */
  readonly lockerTtls: readonly number[];
  /** Each root locker's keepalive: on (TTL/3), off, or a fixed interval in ms. */
  readonly keepalive: readonly (boolean | number)[];
  /** Keys contended for. */
  readonly keys: number;
  readonly extendMany: boolean;
  readonly watch: boolean;
  /**
   * How much of the drift margin the server's fast clock eats: 0 (none) to 1 (all of it). Random
   * programs use 0, 0.5 or 1; more than 1 is a server faster than core allows for (to test the check).
   */
  readonly shrink: number;
  /** The simulated driver's request timeout, in ms. */
  readonly opTimeoutMs: number;
  /** Seeds `Math.random` (core's backoff jitter), so a run replays exactly. */
  readonly randomSeed: number;
}

/** One step of a program. */
export type Step =
  | { readonly t: 'tryLock'; readonly actor: number; readonly key: number; readonly ttl?: number }
  | {
      readonly t: 'lock';
      readonly actor: number;
      readonly key: number;
      readonly ttl?: number;
      readonly timeout?: number;
      readonly abortable: boolean;
      readonly keepalive: boolean;
    }
  | {
      readonly t: 'withLock';
      readonly actor: number;
      readonly key: number;
      readonly timeout?: number;
    }
  | { readonly t: 'extend'; readonly lock: number; readonly ttl?: number }
  | { readonly t: 'release'; readonly lock: number }
  | { readonly t: 'readHeld'; readonly lock: number }
  | { readonly t: 'abort'; readonly call: number }
  | { readonly t: 'finishWork'; readonly work: number; readonly fail: boolean }
  | { readonly t: 'session'; readonly actor: number; readonly ttl: number }
  | { readonly t: 'close'; readonly actor: number }
  | { readonly t: 'elect'; readonly actor: number; readonly key: number; readonly ttl?: number }
  | { readonly t: 'resign'; readonly election: number }
  | { readonly t: 'stop'; readonly election: number }
  | { readonly t: 'net'; readonly action: NetAction; readonly index: number }
  | { readonly t: 'flush' }
  | { readonly t: 'advance'; readonly ms: number; readonly healthy: boolean }
  | { readonly t: 'jump'; readonly ms: number }
  | { readonly t: 'toTimer'; readonly before: number };

/** A whole program. */
export interface Program {
  readonly config: Config;
  readonly steps: readonly Step[];
}

const index = fc.nat({ max: 7 });
const key = fc.nat({ max: 3 });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const ttl = fc.constantFrom(...TTLS);
const timeout = fc.constantFrom(0, 10, 50, 200, 1_000);

const userStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('tryLock'), actor: index, key, ttl: optional(ttl) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('lock'),
      actor: index,
      key,
      ttl: optional(ttl),
      timeout: optional(timeout),
      abortable: fc.boolean(),
      keepalive: fc.constantFrom(true, true, true, false),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('withLock'),
      actor: index,
      key,
      timeout: optional(timeout),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('extend'),
      lock: index,
      ttl: fc.constantFrom(...EXTEND_TTLS),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('release'), lock: index }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('readHeld'), lock: index }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('abort'), call: index }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('finishWork'), work: index, fail: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('session'), actor: index, ttl }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('close'), actor: index }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('elect'), actor: index, key, ttl: optional(ttl) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('resign'), election: index }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('stop'), election: index }) },
) as fc.Arbitrary<Step>;

const netStep: fc.Arbitrary<Step> = fc.record({
  t: fc.constant('net' as const),
  action: fc.constantFrom<NetAction>(
    'reply',
    'reply',
    'reply',
    'apply',
    'apply',
    'lose',
    'fail',
    'ghost',
    'land-ghost',
    'drop-ghost',
    'notify',
    'drop-notify',
  ),
  index,
});

const clockStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('advance' as const),
      ms: fc.constantFrom(1, 2, 5, 10, 20, 50, 100, 300, 1_000),
      healthy: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('jump' as const),
      ms: fc.constantFrom(1, 2, 5, 10, 30, 100, 1_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('toTimer' as const),
      before: fc.constantFrom(0, 1, 2, 5),
    }),
  },
);

/** One step: mostly network and clock, which is where the interleavings are. */
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: userStep },
  { weight: 4, arbitrary: netStep },
  { weight: 1, arbitrary: fc.constant<Step>({ t: 'flush' }) },
  { weight: 3, arbitrary: clockStep },
);

export const configArb: fc.Arbitrary<Config> = fc.record({
  lockers: fc.integer({ min: 2, max: 3 }),
  lockerTtls: fc.array(ttl, { minLength: 3, maxLength: 3 }),
  keepalive: fc.array(
    fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false), fc.constantFrom(5, 30)),
    {
      minLength: 3,
      maxLength: 3,
    },
  ),
  keys: fc.integer({ min: 1, max: 2 }),
  extendMany: fc.boolean(),
  watch: fc.boolean(),
  shrink: fc.constantFrom(0, 0.5, 1, 1),
  opTimeoutMs: fc.constantFrom(20, 60, 250),
  randomSeed: fc.integer(),
});

/** Programs of up to `maxSteps` steps. */
export function programArb(maxSteps: number): fc.Arbitrary<Program> {
  return fc.record({
    config: configArb,
    steps: fc.array(stepArb, { maxLength: maxSteps, size: 'max' }),
  });
}
