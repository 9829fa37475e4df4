import type { ExtendRequest } from '@lock/core';
import { perfToNs } from '../history/clock.js';
import type { CallOp } from '../history/events.js';
import type { JsonlLog } from '../history/jsonl-log.js';
import { SeededRandom } from '../seeded-random.js';
import { errorCode, errorMessage, type HoldHandle, type LockClient } from './client.js';
import type { FromWorker, RequestedFault, Workload } from './protocol.js';
import type { ResourceClient } from './resource-client.js';

/** What an actor needs from its process. */
export interface ActorContext {
  readonly log: JsonlLog;
  readonly resource: ResourceClient;
  readonly workload: Workload;
  readonly opBoundMs: number;
  /** Sends a report to the orchestrator. */
  send(message: FromWorker): void;
  /** Asks for a fault at this moment and resolves once it is in place. */
  request(actor: string, fault: RequestedFault): Promise<void>;
}

/** A lock this actor holds now. */
interface ActiveHold {
  readonly id: string;
  readonly key: string;
  readonly handle: HoldHandle;
  lastValidUntil: number;
  /** The extend race: armed at grant, run right after the first renewal leaves. */
  race: 'armed' | 'running' | 'done' | undefined;
  raceDoneAt: number;
}

/**
 * One worker of the workload: a locker of its own that takes keys, holds them while writing to
 * the fenced resource with its fence, and logs every call (invoke, then ok or fail), every loss,
 * and every change of the library's validity, with the one monotonic clock.
 */
export class Actor {
  readonly id: string;
  readonly #client: LockClient;
  readonly #context: ActorContext;
  readonly #random: SeededRandom;
  readonly #active = new Map<string, ActiveHold>();
  readonly #stop = new AbortController();
  #calls = 0;
  #holds = 0;
  #running: Promise<void> | undefined;

  constructor(id: string, client: LockClient, context: ActorContext, seed: number) {
    this.id = id;
    this.#client = client;
    this.#context = context;
    this.#random = new SeededRandom(seed);
  }

  /** Starts the workload loop. */
  start(): void {
    this.#running = this.#loop();
  }

  /** Stops taking locks, releases what it holds, and resolves once the loop has ended. */
  async quiesce(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** The liveness probe: takes and releases every key, each within `timeoutMs`. */
  async probe(keys: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        // A failed attempt (a client still reconnecting after a restart fails fast, as it
        // should) is tried again until the probe's time is up: the liveness checker asks whether
        // the key is blocked, not whether the first request after healing found a connection.
        const deadline = performance.now() + timeoutMs;
        for (;;) {
          const left = deadline - performance.now();
          if (left <= 0) return;
          const hold = await this.#acquire(key, 'lock', left).catch(() => undefined);
          if (hold !== undefined) {
            await this.#release(hold).catch(() => {});
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(100, left)));
        }
      }),
    );
  }

  /** Closes the locker (timed like any call). */
  async close(): Promise<void> {
    await this.#timed('close', {}, this.#context.opBoundMs * 2, () => this.#client.close()).catch(
      () => {},
    );
  }

  /** Logs a change of validity of any hold (run on every heartbeat and after each renewal). */
  checkValidity(): void {
    for (const hold of this.#active.values()) {
      const until = hold.handle.validUntil();
      if (until === hold.lastValidUntil) continue;
      hold.lastValidUntil = until;
      this.#context.log.write({
        type: 'renew',
        src: this.id,
        hold: hold.id,
        key: hold.key,
        validUntil: perfToNs(until),
      });
    }
  }

  /** A renewal request of this actor's locker is leaving (from its tracing backend). */
  renewSent(request: ExtendRequest): void {
    const hold = [...this.#active.values()].find((h) => h.handle.owner === request.owner);
    this.#context.log.write({
      type: 'renew-sent',
      src: this.id,
      key: request.key,
      ...(hold === undefined ? {} : { hold: hold.id }),
      ttlMs: request.ttlMs,
    });
    const race = this.#context.workload.extendRace;
    if (hold?.race === 'armed' && race !== undefined && request.ttlMs !== race.shortTtlMs) {
      hold.race = 'running';
      // Next turn of the event loop: the renewal is on the wire by then, so the shorter extend
      // reaches the server after it, as in issue #8 item 1.
      setImmediate(() => {
        void this.#runRace(hold, race.shortTtlMs, race.cutOffMs);
      });
    }
  }

  async #loop(): Promise<void> {
    const workload = this.#context.workload;
    while (!this.#stop.signal.aborted) {
      const key = this.#random.pick(workload.keys);
      const op: CallOp = this.#random.chance(workload.tryLockRatio) ? 'tryLock' : 'lock';
      const hold = await this.#acquire(key, op, workload.lockTimeoutMs).catch(() => undefined);
      if (hold !== undefined) {
        this.#context.send({ evt: 'held', actor: this.id, key, hold: hold.id });
        await this.#work(hold);
        await this.#finish(hold);
        this.#context.send({ evt: 'released', actor: this.id, key, hold: hold.id });
      }
      await this.#sleep(this.#random.between(workload.thinkMs));
    }
  }

  async #acquire(
    key: string,
    op: 'lock' | 'tryLock',
    timeoutMs: number,
  ): Promise<ActiveHold | undefined> {
    const id = `${this.id}#${++this.#holds}`;
    const ttlMs = this.#context.workload.ttlMs;
    const onLost = (reason: string) => {
      this.#context.log.write({ type: 'lost', src: this.id, hold: id, key, reason });
      this.#active.delete(id);
    };
    const bound = op === 'lock' ? timeoutMs : this.#context.opBoundMs;
    const handle = await this.#timed(
      op,
      { key, hold: id },
      bound,
      () =>
        op === 'lock'
          ? this.#client.lock(key, { ttlMs, timeoutMs, onLost })
          : this.#client.tryLock(key, { ttlMs, onLost }),
      (granted) =>
        granted === undefined
          ? { granted: false }
          : {
              fence: granted.fence,
              ttlMs,
              validUntil: perfToNs(granted.validUntil()),
            },
    );
    if (handle === undefined) return undefined;
    const hold: ActiveHold = {
      id,
      key,
      handle,
      lastValidUntil: handle.validUntil(),
      race: this.#context.workload.extendRace === undefined ? undefined : 'armed',
      raceDoneAt: 0,
    };
    this.#active.set(id, hold);
    return hold;
  }

  /** Holds the lock for a while: check `held`, work a step, write with the fence; repeat. */
  async #work(hold: ActiveHold): Promise<void> {
    const workload = this.#context.workload;
    let until = performance.now() + this.#random.between(workload.holdMs);
    while (!this.#stop.signal.aborted) {
      if (hold.race === 'done' && workload.extendRace !== undefined) {
        until = Math.max(until, hold.raceDoneAt + workload.extendRace.holdAfterMs);
      }
      if (hold.race === 'armed' && performance.now() > until + 2 * workload.ttlMs)
        hold.race = 'done';
      const racing = hold.race === 'armed' || hold.race === 'running';
      if (performance.now() >= until && !racing) return;
      if (!hold.handle.held()) return;
      if (this.#random.chance(workload.extendRatio)) {
        await this.#timed('extend', { key: hold.key, hold: hold.id }, this.#context.opBoundMs, () =>
          hold.handle.extend(),
        ).catch(() => {});
        this.checkValidity();
      }
      await this.#sleep(this.#random.between(workload.stepMs));
      await this.#write(hold);
    }
  }

  async #runRace(hold: ActiveHold, shortTtlMs: number, cutOffMs: number): Promise<void> {
    try {
      await this.#timed('extend', { key: hold.key, hold: hold.id }, this.#context.opBoundMs, () =>
        hold.handle.extend(shortTtlMs),
      );
      this.checkValidity();
      await this.#context.request(this.id, { kind: 'cut-off', ms: cutOffMs });
    } catch {
      // the race's extend failed: nothing to observe this time
    } finally {
      hold.race = 'done';
      hold.raceDoneAt = performance.now();
    }
  }

  async #write(hold: ActiveHold): Promise<void> {
    const accepted = await this.#context.resource.write(hold.key, hold.handle.fence, hold.id);
    this.#context.log.write({
      type: 'write',
      src: this.id,
      hold: hold.id,
      key: hold.key,
      fence: hold.handle.fence,
      outcome: accepted === undefined ? 'error' : accepted ? 'accepted' : 'rejected',
    });
  }

  async #finish(hold: ActiveHold): Promise<void> {
    const delayed = this.#context.workload.delayedRelease;
    if (delayed !== undefined && !this.#stop.signal.aborted && this.#random.chance(delayed.ratio)) {
      // A short window: it catches the release's bytes (and whatever shares their connection,
      // which TCP keeps in order behind them), not requests made after it on other connections.
      // 120 ms, not less: on a loaded machine the release can leave 50 ms after the window
      // opens, and the run then has nothing delayed to catch (the smoke set missed that way).
      await this.#context.request(this.id, {
        kind: 'delay-requests',
        upMs: delayed.delayMs,
        ms: 120,
      });
    }
    await this.#release(hold).catch(() => {});
  }

  async #release(hold: ActiveHold): Promise<void> {
    try {
      await this.#timed('release', { key: hold.key, hold: hold.id }, this.#context.opBoundMs, () =>
        hold.handle.release(),
      );
    } finally {
      this.#active.delete(hold.id);
    }
  }

  /** Runs `fn` as one logged call: `invoke`, then `ok` (with `okFields`) or `fail`. */
  async #timed<T>(
    op: CallOp,
    target: { key?: string; hold?: string },
    boundMs: number,
    fn: () => Promise<T>,
    okFields?: (result: T) => {
      fence?: number;
      ttlMs?: number;
      validUntil?: string;
      granted?: boolean;
    },
  ): Promise<T> {
    const call = ++this.#calls;
    const log = this.#context.log;
    log.write({ type: 'invoke', src: this.id, call, op, ...target, boundMs });
    try {
      const result = await fn();
      const fields = okFields?.(result) ?? {};
      const { granted, ...rest } = fields;
      log.write({
        type: 'ok',
        src: this.id,
        call,
        op,
        key: target.key,
        ...(granted === false ? {} : { hold: target.hold, ...rest }),
      } as Parameters<JsonlLog['write']>[0]);
      return result;
    } catch (error) {
      log.write({
        type: 'fail',
        src: this.id,
        call,
        op,
        ...target,
        error: errorCode(error),
        message: errorMessage(error),
      });
      throw error;
    }
  }

  /** Sleeps `ms`, or less if the actor is told to stop. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#stop.signal.addEventListener('abort', done, { once: true });
    });
  }
}
