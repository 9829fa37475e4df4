/**
 * The lines of a chaos log (JSONL): what workers, the fenced resource and the nemesis write.
 * Every time field (`t`, `validUntil`, `from`, `to`) is `process.hrtime.bigint()` in
 * nanoseconds as a decimal string: one monotonic clock for every process on the host.
 * @module
 */

/** A lock call a worker makes and times. */
export type CallOp = 'lock' | 'tryLock' | 'extend' | 'release' | 'close';

/** Who wrote a line: an actor id (`w1`, `probe`), a process name, `resource` or `nemesis`. */
type Source = { readonly t: string; readonly src: string };

/** A worker started a call. `boundMs` is the longest it may take (its timeout or deadline). */
export type InvokeEvent = Source & {
  readonly type: 'invoke';
  readonly call: number;
  readonly op: CallOp;
  readonly key?: string;
  readonly hold?: string;
  readonly boundMs: number;
};

/** A call succeeded. A grant (`lock`, `tryLock`) names its new hold, fence and validity. */
export type OkEvent = Source & {
  readonly type: 'ok';
  readonly call: number;
  readonly op: CallOp;
  readonly key?: string;
  readonly hold?: string;
  readonly fence?: number;
  readonly ttlMs?: number;
  readonly validUntil?: string;
};

/** A call failed; `error` is the library's error code (or the error's name). */
export type FailEvent = Source & {
  readonly type: 'fail';
  readonly call: number;
  readonly op: CallOp;
  readonly key?: string;
  readonly hold?: string;
  readonly error: string;
  readonly message: string;
};

/** The library told the holder its lock is lost (`onLost`). */
export type LostEvent = Source & {
  readonly type: 'lost';
  readonly hold: string;
  readonly key: string;
  readonly reason: string;
};

/** The library's validity of a hold changed (a renewal or an extend was confirmed). */
export type RenewEvent = Source & {
  readonly type: 'renew';
  readonly hold: string;
  readonly key: string;
  readonly validUntil: string;
};

/** A renewal (extend) request left for the backend: it may land even if no reply comes. */
export type RenewSentEvent = Source & {
  readonly type: 'renew-sent';
  readonly key: string;
  readonly hold?: string;
  readonly ttlMs: number;
};

/** The worker's view of one write to the fenced resource. */
export type WriteEvent = Source & {
  readonly type: 'write';
  readonly hold: string;
  readonly key: string;
  readonly fence: number;
  readonly outcome: 'accepted' | 'rejected' | 'error';
};

/** The process's event loop did not run between `from` and `to` (a stall, like a short pause). */
export type StallEvent = Source & {
  readonly type: 'stall';
  readonly from: string;
  readonly to: string;
};

/** An unhandled rejection or uncaught exception in a worker. */
export type UnhandledEvent = Source & { readonly type: 'unhandled'; readonly error: string };

/** Resources still keeping the process alive after `close()` (beyond those it started with). */
export type HandlesEvent = Source & {
  readonly type: 'handles';
  readonly leaked: readonly string[];
};

/** A warning the library gave (`onWarning`, `onError`). */
export type WarningEvent = Source & { readonly type: 'warning'; readonly message: string };

/** A process started and hosts these actors (one per process, except the in-process backend). */
export type ProcessEvent = Source & {
  readonly type: 'process';
  readonly actors: readonly string[];
};

/** One write attempt as the fenced resource saw it. */
export type AttemptEvent = Source & {
  readonly type: 'attempt';
  readonly key: string;
  readonly fence: number;
  readonly hold: string;
  readonly accepted: boolean;
};

/** The nemesis did something. `disruptive` faults may make calls slow or fail. */
export type FaultEvent = Source & {
  readonly type: 'fault';
  readonly action: string;
  readonly target: string;
  readonly disruptive: boolean;
};

/** A worker process was stopped (SIGSTOP), resumed, or killed (SIGKILL). */
export type WorkerSignalEvent = Source & {
  readonly type: 'worker-pause' | 'worker-resume' | 'worker-kill';
  readonly worker: string;
};

/** A worker process still ran well after it was told to close. */
export type NoExitEvent = Source & { readonly type: 'no-exit'; readonly worker: string };

/** A phase of the run: `start` of the workload, `heal` (every fault undone), `end`. */
export type PhaseEvent = Source & {
  readonly type: 'phase';
  readonly phase: 'start' | 'heal' | 'end';
};

/** Any line of a chaos log. */
export type LogEvent =
  | InvokeEvent
  | OkEvent
  | FailEvent
  | LostEvent
  | RenewEvent
  | RenewSentEvent
  | WriteEvent
  | StallEvent
  | UnhandledEvent
  | HandlesEvent
  | WarningEvent
  | ProcessEvent
  | AttemptEvent
  | FaultEvent
  | WorkerSignalEvent
  | NoExitEvent
  | PhaseEvent;

/** Distributes `Omit` over a union, so each event type keeps its own fields. */
export type WithoutTime<E> = E extends unknown ? Omit<E, 't' | 'src'> : never;
