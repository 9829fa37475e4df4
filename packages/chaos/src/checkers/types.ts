import type { RunHistory } from '../history/model.js';

/** The checkers, by name. */
export type CheckerName =
  | 'overlap'
  | 'fences'
  | 'loss-timing'
  | 'call-bounds'
  | 'liveness'
  | 'spurious-loss'
  | 'takeover'
  | 'handover';

/** One thing a checker found wrong, with the time (ms since the run's first event) it happened. */
export interface Finding {
  readonly checker: CheckerName;
  readonly message: string;
  readonly at?: number;
  readonly key?: string;
  readonly holds?: readonly string[];
}

/** What one checker says about one run. */
export interface CheckResult {
  readonly checker: CheckerName;
  readonly findings: readonly Finding[];
  /** Figures for the report (counts, worst values in ms). */
  readonly figures: Readonly<Record<string, number>>;
}

/** What the checkers need to know about the run besides its history. */
export interface CheckContext {
  /** The TTL workers lock with. */
  readonly ttlMs: number;
  /**
   * How long the server may keep a lock after the last write that set its TTL (rounding up to
   * whole seconds, expiry loops): the upper end of a takeover.
   */
  readonly serverTtlMs: number;
  /** Longest a waiter may sleep before it notices a free lock (its poll interval). */
  readonly retryMs: number;
  /** Slack on every call's bound. @default 250 */
  readonly callSlackMs: number;
  /** Whether this scenario may lose locks; when false every `lost` is spurious. */
  readonly lossExpected: boolean;
  /** When set, a waiting worker must get a released lock within this long (no stalled queue). */
  readonly handoverBoundMs: number | undefined;
  /** Check killed holders' takeover times. */
  readonly takeover: boolean;
  /** The keys the workload used (the liveness probe must get each one). */
  readonly keys: readonly string[];
  /** The actor that probes liveness after the faults heal. */
  readonly probeActor: string;
}

/** A checker: a pure function of the run's history. */
export type Checker = (history: RunHistory, context: CheckContext) => CheckResult;
