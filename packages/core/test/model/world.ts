// The state of one model-check run: the clock, the simulated store and network, the lockers
// (root lockers on their own connections, and sessions), and everything the program has started
// (calls, locks, routines, elections), with the bookkeeping the invariants need.
import type { Election } from '../../src/election.js';
import type { LockHandle } from '../../src/lock-handle.js';
import { createLocker, type Locker } from '../../src/locker.js';
import { ManualClock, settle } from '../../src/manual-clock.js';
import type { Config } from './program.js';
import { SimBackend } from './sim-backend.js';
import { SimNetwork } from './sim-network.js';
import { SimStore } from './sim-store.js';
import { type ClockView, TrackingClock } from './tracking-clock.js';

/** A root locker: its own connection and its own view of the clock. */
export interface Root {
  readonly name: string;
  readonly backend: SimBackend;
  readonly view: ClockView;
  readonly locker: Locker;
  /** Set once its `close()` has resolved. */
  closed: boolean;
}

/** A locker the program can use: a root or one of its sessions. */
export interface Actor {
  readonly name: string;
  readonly locker: Locker;
  readonly root: Root;
}

/** A lock handed to the program (by tryLock, lock, withLock or an election). */
export interface LockRecord {
  readonly label: string;
  readonly key: string;
  readonly root: Root;
  handle: LockHandle | undefined;
  /** `validUntil` and `ttlMs` at the last check, and renewals sent for it by then. */
  seen: { validUntil: number; ttlMs: number; renewals: number } | undefined;
  /** The program itself released it (so a routine that goes on knows it has no lock). */
  releasedByProgram: boolean;
  /** When the last check found its `validUntil` lowered or its TTL changed (its loss timer re-armed). */
  rearmedAt: number;
}

/** A call the program made, and what it must settle by. */
export interface CallRecord {
  readonly label: string;
  readonly startedAt: number;
  /** It must have settled once timers have fired up to here (`Infinity`: no bound). */
  readonly deadline: number;
  settled: boolean;
  /** For `withLock`: the lock was taken and the routine started (the deadline no longer applies). */
  started: boolean;
  reported: boolean;
  readonly abort: AbortController | undefined;
}

/** A `withLock` routine waiting for the program to let it finish. */
export interface Work {
  readonly label: string;
  done: boolean;
  finish(fail: boolean): void;
}

/** An election the program started. */
export interface ElectionRecord {
  readonly label: string;
  readonly election: Election;
}

/** The run's state. */
export class World {
  readonly config: Config;
  readonly manual = new ManualClock(1_000);
  readonly clock = new TrackingClock(this.manual);
  readonly store: SimStore;
  readonly network: SimNetwork;
  readonly roots: Root[] = [];
  readonly actors: Actor[] = [];
  readonly locks: LockRecord[] = [];
  readonly calls: CallRecord[] = [];
  readonly works: Work[] = [];
  readonly elections: ElectionRecord[] = [];
  readonly violations: string[] = [];
  /** The run's trace, when tracing. */
  readonly trace: string[] | undefined;
  /** Timers have fired on time up to here; a jump moves time without firing them. */
  firedUpTo: number;
  /** The jumps since time last moved by `advance`: timers in between are late. */
  jumps: { start: number; end: number } | undefined;
  /** In the epilogue, routines finish as soon as they start. */
  finishWorkAtOnce = false;
  #counter = 0;

  constructor(config: Config, trace: boolean) {
    this.config = config;
    this.trace = trace ? [] : undefined;
    const log = this.trace === undefined ? undefined : (line: string) => this.log(line);
    const now = () => this.manual.now();
    this.store = new SimStore(
      now,
      (ttl) => config.shrink * (ttl * 0.01 + 2),
      (key) => {
        for (const root of this.roots) root.backend.keyFreed(key);
      },
    );
    this.network = new SimNetwork(this.store, now, config.opTimeoutMs, log);
    this.firedUpTo = this.manual.now();
    for (let i = 0; i < config.lockers; i++) this.#addRoot(i);
  }

  /** Adds a line to the trace (only when tracing). */
  log(line: string): void {
    this.trace?.push(`[${this.manual.now()}] ${line}`);
  }

  violation(message: string): void {
    this.violations.push(`at ${this.manual.now()}: ${message}`);
    this.log(`VIOLATION ${message}`);
  }

  /** A fresh label for a call, lock, routine or election. */
  label(what: string): string {
    return `${what}#${++this.#counter}`;
  }

  keyOf(index: number): string {
    return `k${index % this.config.keys}`;
  }

  actorOf(index: number): Actor {
    return this.actors[index % this.actors.length] as Actor;
  }

  /** Records a call: when it settles, `onValue` or `onError` sees the outcome. */
  track<T>(
    label: string,
    promise: Promise<T>,
    deadline: number,
    handlers: {
      abort?: AbortController;
      onValue?: (value: T) => void;
      onError?: (error: unknown) => void;
    } = {},
  ): CallRecord {
    const call: CallRecord = {
      label,
      startedAt: this.manual.now(),
      deadline,
      settled: false,
      started: false,
      reported: false,
      abort: handlers.abort,
    };
    this.calls.push(call);
    this.log(`call ${label}${Number.isFinite(deadline) ? ` (deadline ${deadline})` : ''}`);
    promise.then(
      (value) => {
        call.settled = true;
        this.log(`${label} resolved`);
        handlers.onValue?.(value);
      },
      (error: unknown) => {
        call.settled = true;
        this.log(`${label} rejected: ${error instanceof Error ? error.message : String(error)}`);
        handlers.onError?.(error);
      },
    );
    return call;
  }

  /** Lets every promise callback run (one macrotask turn: nothing in core uses real timers). */
  async settle(): Promise<void> {
    await settle();
  }

  /** Applies and answers every request under way and delivers every notification. */
  async flush(): Promise<void> {
    for (let round = 0; round < 1_000; round++) {
      const answered = this.network.flush();
      let notified = 0;
      while (this.network.perform('notify', 0)) notified++;
      if (answered + notified === 0) return;
      await this.settle();
    }
    this.violation('the network never went quiet: every reply caused another request');
  }

  /**
   * Moves time forward by `ms`, one due timer (or driver deadline) at a time, letting promises
   * settle after each; on a healthy network every request is answered as soon as it is sent.
   */
  async advance(ms: number, healthy: boolean, check: () => void): Promise<void> {
    const target = this.manual.now() + ms;
    for (let step = 0; ; step++) {
      if (step > 5_000) {
        this.violation(`timers keep falling due at ${this.manual.now()} (a busy loop)`);
        return;
      }
      if (healthy) await this.flush();
      const now = this.manual.now();
      const next = Math.max(now, Math.min(this.clock.nextDue(), this.network.nextDeadline()));
      if (next > target) break;
      this.manual.advance(next - now);
      this.firedUpTo = Math.max(this.firedUpTo, next);
      await this.settle();
      this.network.expireDeadlines();
      await this.settle();
      check();
    }
    this.manual.advance(target - this.manual.now());
    this.firedUpTo = Math.max(this.firedUpTo, target);
    await this.settle();
  }

  /** Moves time forward without firing any timer (a paused process); they fire late, later. */
  jump(ms: number): void {
    const now = this.manual.now();
    if (this.jumps !== undefined && this.jumps.end === now) this.jumps.end = now + ms;
    else this.jumps = { start: now, end: now + ms };
    this.manual.jump(ms);
  }

  #addRoot(index: number): void {
    const name = `L${index}`;
    const backend = new SimBackend(name, this.network, this.config);
    const view = this.clock.view();
    const keepalive = this.config.keepalive[index % this.config.keepalive.length] ?? true;
    const locker = createLocker(backend, {
      clock: view,
      identity: name,
      ttl: this.config.lockerTtls[index % this.config.lockerTtls.length] as number,
      keepalive: typeof keepalive === 'number' ? { interval: keepalive } : keepalive,
      onError: (error) => this.log(`${name} onError: ${(error as Error).message}`),
    });
    const root: Root = { name, backend, view, locker, closed: false };
    this.roots.push(root);
    this.actors.push({ name, locker, root });
  }
}
