// The simulated network between lockers and the store. Every request a backend sends waits here
// until the test's schedule decides its fate; nothing is applied or answered on its own except
// by the driver's timeout (a backend must fail fast), which gives up on a request without
// knowing whether it will still land.
import type { SimStore } from './sim-store.js';

/** What the schedule can do to one request under way. */
export type NetAction =
  /** Apply it to the store now (again, if it was applied already: a driver replay). */
  | 'apply'
  /** Send its reply (applying it first if it was not): the caller sees the outcome. */
  | 'reply'
  /** Apply it, then lose the reply: the caller sees a failure for a request that landed. */
  | 'lose'
  /** Fail it before it is applied (a refused connection): it never lands. */
  | 'fail'
  /** Fail it now but keep a copy that may still land later (a timeout with a request in a socket). */
  | 'ghost'
  /** Apply a copy of a request whose caller already gave up on it. */
  | 'land-ghost'
  /** Forget such a copy: it will never land. */
  | 'drop-ghost'
  /** Deliver a pending change notification of `watch`. */
  | 'notify'
  /** Lose a pending change notification. */
  | 'drop-notify';

/** The error a simulated driver rejects with; core must keep it as `cause`. */
export class SimNetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimNetworkError';
  }
}

/** One request under way, from one connection. */
export interface Op {
  readonly id: number;
  readonly connection: string;
  readonly label: string;
  readonly sentAt: number;
  /** The driver gives up at this time (the request may still land: it becomes a ghost). */
  readonly deadline: number;
  /** How many times it has been applied (more than once: a replay). */
  applied: number;
  /** The result of the latest application; the reply carries it. */
  result: unknown;
  readonly apply: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Notification {
  readonly connection: string;
  readonly key: string;
  readonly deliver: () => void;
}

/** Requests in flight, copies that may still land, and pending notifications. */
export class SimNetwork {
  readonly store: SimStore;
  readonly #now: () => number;
  readonly #opTimeoutMs: number;
  readonly #log: ((line: string) => void) | undefined;
  readonly pending: Op[] = [];
  readonly ghosts: Op[] = [];
  readonly notifications: Notification[] = [];
  #nextId = 1;

  constructor(
    store: SimStore,
    now: () => number,
    opTimeoutMs: number,
    log: ((line: string) => void) | undefined,
  ) {
    this.store = store;
    this.#now = now;
    this.#opTimeoutMs = opTimeoutMs;
    this.#log = log;
  }

  /** Sends a request: it waits for the schedule. */
  send<T>(connection: string, label: string, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const sentAt = this.#now();
      const op: Op = {
        id: this.#nextId++,
        connection,
        label,
        sentAt,
        deadline: sentAt + this.#opTimeoutMs,
        applied: 0,
        result: undefined,
        apply,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      this.pending.push(op);
      this.#log?.(`  send #${op.id} ${connection} ${label}`);
    });
  }

  /** Queues `deliver` as a change notification for `connection`. */
  notify(connection: string, key: string, deliver: () => void): void {
    this.notifications.push({ connection, key, deliver });
  }

  /** Earliest deadline of a request under way, or `Infinity`. */
  nextDeadline(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const op of this.pending) if (op.deadline < earliest) earliest = op.deadline;
    return earliest;
  }

  /** Requests (not ghosts) of `connection` still waiting for their reply. */
  pendingOf(connection: string): number {
    return this.pending.filter((op) => op.connection === connection).length;
  }

  /** Gives up (as a ghost) on every request whose driver deadline has come. */
  expireDeadlines(): void {
    const now = this.#now();
    for (const op of [...this.pending]) if (op.deadline <= now) this.#giveUp(op, 'timed out');
  }

  /** Does `action` to the `index`-th (modulo) request, ghost or notification; false if none. */
  perform(action: NetAction, index: number): boolean {
    if (action === 'land-ghost' || action === 'drop-ghost') {
      const op = pick(this.ghosts, index);
      if (op === undefined) return false;
      this.ghosts.splice(this.ghosts.indexOf(op), 1);
      if (action === 'land-ghost') this.#apply(op, 'ghost lands');
      else this.#log?.(`  ghost #${op.id} dropped`);
      return true;
    }
    if (action === 'notify' || action === 'drop-notify') {
      const notification = pick(this.notifications, index);
      if (notification === undefined) return false;
      this.notifications.splice(this.notifications.indexOf(notification), 1);
      this.#log?.(`  ${action} ${notification.connection} ${notification.key}`);
      if (action === 'notify') notification.deliver();
      return true;
    }
    const op = pick(this.pending, index);
    if (op === undefined) return false;
    switch (action) {
      case 'apply':
        this.#apply(op, op.applied > 0 ? 'replayed' : 'applied');
        break;
      case 'reply':
        if (op.applied === 0) this.#apply(op, 'applied');
        this.#remove(op);
        this.#log?.(`  reply #${op.id}: ${JSON.stringify(op.result)}`);
        op.resolve(op.result);
        break;
      case 'lose':
        if (op.applied === 0) this.#apply(op, 'applied');
        this.#remove(op);
        this.#log?.(`  reply #${op.id} lost`);
        op.reject(new SimNetworkError('connection reset: the reply was lost'));
        break;
      case 'fail':
        this.#remove(op);
        this.#log?.(`  #${op.id} failed${op.applied > 0 ? ' (after landing)' : ''}`);
        op.reject(new SimNetworkError('connection refused'));
        break;
      case 'ghost':
        this.#giveUp(op, 'given up');
        break;
    }
    return true;
  }

  /** Applies and answers every request under way, oldest first (a healthy network). */
  flush(): number {
    let count = 0;
    while (this.pending.length > 0) {
      this.perform('reply', 0);
      count++;
    }
    return count;
  }

  #giveUp(op: Op, why: string): void {
    this.#remove(op);
    this.ghosts.push(op);
    this.#log?.(`  #${op.id} ${why} (may still land)`);
    op.reject(new SimNetworkError(`request ${why}`));
  }

  #apply(op: Op, how: string): void {
    op.result = op.apply();
    op.applied++;
    this.#log?.(`  #${op.id} ${how} at ${this.#now()}: ${JSON.stringify(op.result)}`);
  }

  #remove(op: Op): void {
    this.pending.splice(this.pending.indexOf(op), 1);
  }
}

function pick<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}
