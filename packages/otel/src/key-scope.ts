import type { LockErrorCode, LostReason } from '@lock/core';
import { type Attributes, diag } from '@opentelemetry/api';
import type { LockInstruments, Tally } from './lock-instruments.js';
import { type KeyPolicy, MAX_RECORDED_KEYS } from './options.js';
import { LockAttributes } from './semconv.js';

/** How a hold ended, as the `lock.hold.end` attribute. */
export type HoldEnd = 'released' | 'lost' | 'release_failed';

/**
 * The attribute sets and tallies of one recorded key value (or of "no key"), built once so that
 * recording an event allocates nothing and hashes nothing but the histogram's own work.
 */
export class KeyScope {
  /** `lock.system.name` (and `lock.key` when recorded). */
  readonly base: Attributes;
  /** The base plus `lock.contended`, indexed by `Number(contended)`. */
  readonly byContention: readonly [Attributes, Attributes];
  /** The base plus `lock.hold.end`. */
  readonly byHoldEnd: Readonly<Record<HoldEnd, Attributes>>;
  readonly acquisitions: readonly [Tally, Tally];
  readonly attempts: Tally;
  readonly denials: Tally;
  readonly renewals: Tally;
  readonly risks: Tally;
  readonly held: Tally;
  readonly #instruments: LockInstruments;
  readonly #losses = new Map<string, { readonly attributes: Attributes; readonly tally: Tally }>();
  readonly #errors = new Map<string, Tally>();
  readonly #failures = new Map<LockErrorCode, Attributes>();

  constructor(instruments: LockInstruments, systemName: string, key: string | undefined) {
    this.#instruments = instruments;
    const base: Attributes = { [LockAttributes.SYSTEM_NAME]: systemName };
    if (key !== undefined) base[LockAttributes.KEY] = key;
    this.base = base;
    this.byContention = [
      { ...base, [LockAttributes.CONTENDED]: false },
      { ...base, [LockAttributes.CONTENDED]: true },
    ];
    this.byHoldEnd = {
      released: { ...base, [LockAttributes.HOLD_END]: 'released' },
      lost: { ...base, [LockAttributes.HOLD_END]: 'lost' },
      release_failed: { ...base, [LockAttributes.HOLD_END]: 'release_failed' },
    };
    this.acquisitions = [
      instruments.tally('ACQUISITIONS', this.byContention[0]),
      instruments.tally('ACQUISITIONS', this.byContention[1]),
    ];
    this.attempts = instruments.tally('ATTEMPTS', base);
    this.denials = instruments.tally('DENIALS', base);
    this.renewals = instruments.tally('RENEWALS', base);
    this.risks = instruments.tally('RISKS', base);
    this.held = instruments.tally('HELD', base);
  }

  /**
   * For a loss: the attributes of the loss histograms (base + reason) and the tally of
   * `lock.losses` (base + reason + late).
   */
  loss(
    reason: LostReason,
    late: boolean,
  ): { readonly attributes: Attributes; readonly tally: Tally } {
    const id = `${reason}|${late}`;
    let loss = this.#losses.get(id);
    if (loss === undefined) {
      const attributes = { ...this.base, [LockAttributes.LOSS_REASON]: reason };
      loss = {
        attributes,
        tally: this.#instruments.tally('LOSSES', {
          ...attributes,
          [LockAttributes.LOSS_LATE]: late,
        }),
      };
      this.#losses.set(id, loss);
    }
    return loss;
  }

  /** The attributes of a failed acquire call's `lock.acquire.duration`: the base plus `error.type`. */
  failed(code: LockErrorCode): Attributes {
    let attributes = this.#failures.get(code);
    if (attributes === undefined) {
      attributes = { ...this.base, [LockAttributes.ERROR_TYPE]: code };
      this.#failures.set(code, attributes);
    }
    return attributes;
  }

  /** The tally of `lock.errors` for `code` and `operation`. */
  error(code: LockErrorCode, operation: string): Tally {
    const id = `${code}|${operation}`;
    let tally = this.#errors.get(id);
    if (tally === undefined) {
      tally = this.#instruments.tally('ERRORS', {
        ...this.base,
        [LockAttributes.ERROR_TYPE]: code,
        [LockAttributes.OPERATION_NAME]: operation,
      });
      this.#errors.set(id, tally);
    }
    return tally;
  }
}

/**
 * Finds the {@link KeyScope} of a lock key under a {@link KeyPolicy}: the shared "no key" scope
 * unless the policy records the key, then one scope per recorded value, at most
 * {@link MAX_RECORDED_KEYS} of them.
 */
export class KeyScopes {
  /** The scope of keys recorded without `lock.key`. */
  readonly unkeyed: KeyScope;
  readonly #recorded = new Map<string, KeyScope>();
  readonly #valueOf: ((key: string) => string | undefined) | undefined;
  readonly #instruments: LockInstruments;
  readonly #systemName: string;
  #warned = false;

  constructor(instruments: LockInstruments, systemName: string, policy: KeyPolicy | undefined) {
    this.#instruments = instruments;
    this.#systemName = systemName;
    this.unkeyed = new KeyScope(instruments, systemName, undefined);
    if (policy === undefined) this.#valueOf = undefined;
    else if (typeof policy === 'function') this.#valueOf = policy;
    else {
      const allowed = new Set(policy);
      this.#valueOf = (key) => (allowed.has(key) ? key : undefined);
    }
  }

  /** The scope `key` is recorded under (`key` may be undefined: a batch's error). */
  of(key: string | undefined): KeyScope {
    if (this.#valueOf === undefined || key === undefined) return this.unkeyed;
    const value = this.#valueOf(key);
    if (typeof value !== 'string') return this.unkeyed;
    let scope = this.#recorded.get(value);
    if (scope === undefined) {
      if (this.#recorded.size >= MAX_RECORDED_KEYS) {
        if (!this.#warned) {
          this.#warned = true;
          diag.warn(
            `@lock/otel: the keys option produced more than ${MAX_RECORDED_KEYS} distinct lock.key values; further ones are recorded without lock.key (map keys to fewer values)`,
          );
        }
        return this.unkeyed;
      }
      scope = new KeyScope(this.#instruments, this.#systemName, value);
      this.#recorded.set(value, scope);
    }
    return scope;
  }
}
