/**
 * What the orchestrator tells a worker process (its config, then commands over the IPC
 * channel) and what the worker reports back. Plain JSON: it crosses process boundaries.
 * @module
 */

/** How a worker reaches the lock store. `prefix` keeps every run's keys apart. */
export type BackendConfig =
  | { readonly kind: 'local'; readonly prefix: string }
  | {
      readonly kind: 'redis';
      readonly prefix: string;
      readonly url: string;
      readonly options: Readonly<Record<string, number | boolean>>;
    }
  | {
      readonly kind: 'redlock';
      readonly prefix: string;
      readonly nodes: readonly string[];
      readonly options: Readonly<Record<string, number | boolean>>;
    }
  | {
      readonly kind: 'memcached';
      readonly prefix: string;
      readonly servers: readonly string[];
      readonly options: Readonly<Record<string, number | boolean>>;
    }
  | {
      readonly kind: 'etcd';
      readonly prefix: string;
      readonly hosts: readonly string[];
      readonly options: Readonly<Record<string, number | boolean>>;
    }
  | { readonly kind: 'raw-redis'; readonly prefix: string; readonly url: string };

/** Flaws of the small lock client in `variants/` (each one a deliberately broken library). */
export type ClientFlaw =
  /** Validity counted from when a reply arrived instead of when its request was sent. */
  | 'validity-from-reply'
  /** No loss timer: the holder learns its validity ran out only from a poll every TTL. */
  | 'slow-poll-loss'
  /** A renewal's confirmation overwrites a shorter `extend()` sent after it (max of deadlines). */
  | 'keepalive-overwrites-extend'
  /** No deadline of its own on calls: trusts the driver, which can wait forever. */
  | 'no-deadline';

/** Flaws built as wrappers over a real backend (`LockBackend`). */
export type BackendFlaw =
  /** Release deletes whoever holds the key. */
  | 'unconditional-delete'
  /** Every grant has the same fence. */
  | 'no-fencing'
  /** The server keeps every lock 1000 × longer than asked (as good as no expiry). */
  | 'no-expiry';

/** The library under test: `@lock/core`'s locker, or the small client of `variants/`. */
export interface ClientConfig {
  readonly kind: 'core' | 'mini';
  readonly flaws: readonly ClientFlaw[];
  readonly wrappers: readonly BackendFlaw[];
  /** Core's retry options (waiting on backends without a queue of their own). */
  readonly pollIntervalMs: number;
}

/** What each worker does, drawn from its own seeded random numbers. */
export interface Workload {
  readonly keys: readonly string[];
  readonly ttlMs: number;
  readonly lockTimeoutMs: number;
  /** How long a hold lasts, [min, max] ms. */
  readonly holdMs: readonly [number, number];
  /** One work step: check `held`, work this long, then write with the fence. */
  readonly stepMs: readonly [number, number];
  /** Pause between holds, [min, max] ms. */
  readonly thinkMs: readonly [number, number];
  /** Share of attempts made with `tryLock` instead of `lock`. */
  readonly tryLockRatio: number;
  /** Chance per step of an `extend()` with the same TTL. */
  readonly extendRatio: number;
  /**
   * The keepalive-versus-extend race: right after a renewal leaves, `extend(shortTtlMs)`; once
   * that returns, ask to be cut off for `cutOffMs` and keep working for `holdAfterMs`.
   */
  readonly extendRace?: {
    readonly shortTtlMs: number;
    readonly cutOffMs: number;
    readonly holdAfterMs: number;
  };
  /** Before this share of releases, ask for this worker's requests to be delayed by `delayMs`. */
  readonly delayedRelease?: { readonly ratio: number; readonly delayMs: number };
}

/** Everything a worker process needs, passed as JSON in its first argument. */
export interface WorkerConfig {
  /** Name of this process in the logs (its only actor's id, or `local`). */
  readonly process: string;
  /** Actors (independent lockers) this process hosts. */
  readonly actors: readonly string[];
  /** The actor that probes liveness, when this process hosts it. */
  readonly probeActor: string | undefined;
  readonly logPath: string;
  readonly seed: number;
  readonly backend: BackendConfig;
  readonly client: ClientConfig;
  readonly workload: Workload;
  readonly resourcePort: number;
  /** Deadline the backend promises for a single call (tryLock, extend, release), ms. */
  readonly opBoundMs: number;
}

/** A fault a worker asks for at a moment only it knows (right after an extend race, before a release). */
export type RequestedFault =
  | { readonly kind: 'cut-off'; readonly ms: number }
  | { readonly kind: 'delay-requests'; readonly upMs: number; readonly ms: number };

/** A fault the orchestrator makes inside the in-process (local) worker. */
export type InProcessFault = 'none' | 'fail' | 'hang';

/** Orchestrator → worker. */
export type ToWorker =
  | { readonly cmd: 'start' }
  | { readonly cmd: 'quiesce' }
  | { readonly cmd: 'probe'; readonly keys: readonly string[]; readonly timeoutMs: number }
  | { readonly cmd: 'close' }
  | { readonly cmd: 'ack'; readonly id: number }
  | {
      readonly cmd: 'fault';
      readonly actor: string;
      readonly fault: InProcessFault;
      readonly methods: readonly ('acquire' | 'extend' | 'release' | 'inspect')[];
    };

/** Worker → orchestrator. */
export type FromWorker =
  | { readonly evt: 'ready' }
  | { readonly evt: 'held'; readonly actor: string; readonly key: string; readonly hold: string }
  | {
      readonly evt: 'released';
      readonly actor: string;
      readonly key: string;
      readonly hold: string;
    }
  | {
      readonly evt: 'request';
      readonly id: number;
      readonly actor: string;
      readonly fault: RequestedFault;
    }
  | { readonly evt: 'quiesced' }
  | { readonly evt: 'probed' }
  | { readonly evt: 'closed' };
