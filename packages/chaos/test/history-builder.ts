import type { CallOp, LogEvent } from '../src/history/events.js';
import { sortByTime } from '../src/history/load.js';
import { buildHistory, type RunHistory } from '../src/history/model.js';

/** A log time `ms` milliseconds after an arbitrary origin. */
export function ns(ms: number): string {
  return (1_000_000_000_000n + BigInt(Math.round(ms * 1e6))).toString();
}

/** Builds synthetic histories for checker tests, with times in ms. */
export class HistoryBuilder {
  readonly events: LogEvent[] = [];
  #call = 0;

  constructor() {
    this.events.push({ t: ns(0), src: 'nemesis', type: 'phase', phase: 'start' });
  }

  /** A grant: `lock` invoked at `invokeAt`, granted at `okAt`, valid until `validUntil`. */
  grant(
    actor: string,
    hold: string,
    key: string,
    fence: number,
    invokeAt: number,
    okAt: number,
    validUntil: number,
  ): this {
    const call = ++this.#call;
    this.events.push(
      { t: ns(invokeAt), src: actor, type: 'invoke', call, op: 'lock', key, hold, boundMs: 2_000 },
      {
        t: ns(okAt),
        src: actor,
        type: 'ok',
        call,
        op: 'lock',
        key,
        hold,
        fence,
        ttlMs: 1_000,
        validUntil: ns(validUntil),
      },
    );
    return this;
  }

  /** A call of `op` from `from` to `to` (or never ending), with its bound. */
  call(
    actor: string,
    op: CallOp,
    from: number,
    to: number | undefined,
    boundMs: number,
    key?: string,
    hold?: string,
    outcome: 'ok' | 'fail' = 'ok',
  ): this {
    const call = ++this.#call;
    this.events.push({
      t: ns(from),
      src: actor,
      type: 'invoke',
      call,
      op,
      boundMs,
      ...(key ? { key } : {}),
      ...(hold ? { hold } : {}),
    });
    if (to !== undefined) {
      this.events.push(
        outcome === 'ok'
          ? {
              t: ns(to),
              src: actor,
              type: 'ok',
              call,
              op,
              ...(key ? { key } : {}),
              ...(hold ? { hold } : {}),
            }
          : {
              t: ns(to),
              src: actor,
              type: 'fail',
              call,
              op,
              ...(key ? { key } : {}),
              ...(hold ? { hold } : {}),
              error: 'TIMEOUT',
              message: 'timed out',
            },
      );
    }
    return this;
  }

  release(actor: string, hold: string, key: string, at: number, okAt = at + 1): this {
    return this.call(actor, 'release', at, okAt, 2_000, key, hold);
  }

  renew(actor: string, hold: string, key: string, at: number, validUntil: number): this {
    this.events.push({
      t: ns(at),
      src: actor,
      type: 'renew',
      hold,
      key,
      validUntil: ns(validUntil),
    });
    return this;
  }

  renewSent(actor: string, hold: string, key: string, at: number): this {
    this.events.push({ t: ns(at), src: actor, type: 'renew-sent', hold, key, ttlMs: 1_000 });
    return this;
  }

  lost(actor: string, hold: string, key: string, at: number, reason = 'expired'): this {
    this.events.push({ t: ns(at), src: actor, type: 'lost', hold, key, reason });
    return this;
  }

  attempt(hold: string, key: string, fence: number, at: number, accepted: boolean): this {
    this.events.push({ t: ns(at), src: 'resource', type: 'attempt', hold, key, fence, accepted });
    return this;
  }

  pause(worker: string, from: number, to: number): this {
    this.events.push(
      { t: ns(from), src: 'nemesis', type: 'worker-pause', worker },
      { t: ns(to), src: 'nemesis', type: 'worker-resume', worker },
    );
    return this;
  }

  stall(actor: string, from: number, to: number): this {
    this.events.push({ t: ns(to), src: actor, type: 'stall', from: ns(from), to: ns(to) });
    return this;
  }

  kill(worker: string, at: number): this {
    this.events.push({ t: ns(at), src: 'nemesis', type: 'worker-kill', worker });
    return this;
  }

  fault(at: number, disruptive = true): this {
    this.events.push({
      t: ns(at),
      src: 'nemesis',
      type: 'fault',
      action: 'x',
      target: 'y',
      disruptive,
    });
    return this;
  }

  heal(at: number): this {
    this.events.push({ t: ns(at), src: 'nemesis', type: 'phase', phase: 'heal' });
    return this;
  }

  push(event: LogEvent): this {
    this.events.push(event);
    return this;
  }

  /** The history, ending at `endAt`. */
  build(endAt: number): RunHistory {
    this.events.push({ t: ns(endAt), src: 'nemesis', type: 'phase', phase: 'end' });
    return buildHistory(sortByTime(this.events));
  }
}
