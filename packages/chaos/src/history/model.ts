import type { CallOp, LogEvent } from './events.js';

/** A span of time, in ms since the run's first event. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}

/** One grant of a lock, from the acquire's reply to the end of its certain-hold window. */
export interface Hold {
  readonly id: string;
  readonly actor: string;
  readonly key: string;
  readonly fence: number;
  /** TTL the grant was made with. */
  readonly ttlMs: number | undefined;
  /** When the acquiring call started. */
  readonly invokeAt: number;
  /** When its reply arrived: the window starts here. */
  readonly start: number;
  /** The library's validity as it changed: `until` became valid at `at`. */
  readonly validity: readonly { readonly at: number; readonly until: number }[];
  /** When the library's own validity ran out (renewals that came in time extend it). */
  readonly validityEnd: number;
  readonly lostAt: number | undefined;
  readonly lostReason: string | undefined;
  /** When the holder called `release()`. */
  readonly releaseAt: number | undefined;
  /** When the holder's process was killed while it held the lock. */
  readonly killedAt: number | undefined;
  /** Sends of renewal requests for this hold (any of them may have landed). */
  readonly renewSent: readonly number[];
  /** End of the certain-hold window: the earliest of release, lost, validity, kill, run end. */
  readonly end: number;
  readonly endReason: 'release' | 'lost' | 'validity' | 'killed' | 'run-end';
}

/** One timed lock call. */
export interface Call {
  readonly actor: string;
  readonly op: CallOp;
  readonly key: string | undefined;
  readonly hold: string | undefined;
  readonly invokeAt: number;
  readonly boundMs: number;
  /** When it ended, or `undefined` if it never did. */
  readonly endAt: number | undefined;
  readonly outcome: 'ok' | 'fail' | 'open';
  readonly error: string | undefined;
}

/** A write attempt as the fenced resource saw it. */
export interface Attempt {
  readonly at: number;
  readonly key: string;
  readonly fence: number;
  readonly hold: string;
  readonly accepted: boolean;
}

/** A fault the nemesis made. */
export interface Fault {
  readonly at: number;
  readonly action: string;
  readonly target: string;
  readonly disruptive: boolean;
}

/** Everything the checkers need, in ms since the run's first event. */
export interface RunHistory {
  readonly t0: bigint;
  /** Time of the last event. */
  readonly end: number;
  readonly holds: readonly Hold[];
  readonly calls: readonly Call[];
  readonly attempts: readonly Attempt[];
  readonly lost: readonly {
    at: number;
    actor: string;
    hold: string;
    key: string;
    reason: string;
  }[];
  /** Times an actor could not run: its process stopped (SIGSTOP) or its event loop stalled. */
  readonly pauses: ReadonlyMap<string, readonly Interval[]>;
  /** SIGSTOP spans only, per actor. */
  readonly stops: ReadonlyMap<string, readonly Interval[]>;
  readonly kills: readonly { at: number; actor: string }[];
  readonly faults: readonly Fault[];
  /** When the workload started, and when every fault had been healed. */
  readonly startAt: number;
  readonly healAt: number | undefined;
  readonly unhandled: readonly { at: number; actor: string; error: string }[];
  readonly leaks: readonly { actor: string; leaked: readonly string[] }[];
  readonly noExit: readonly string[];
  readonly warnings: readonly { at: number; actor: string; message: string }[];
}

/** Builds the {@link RunHistory} of a run from its merged, time-ordered events. */
export function buildHistory(events: readonly LogEvent[]): RunHistory {
  const t0 = events.length === 0 ? 0n : BigInt(events[0]?.t as string);
  const ms = (ns: string) => Number(BigInt(ns) - t0) / 1e6;
  const end = events.length === 0 ? 0 : ms(events[events.length - 1]?.t as string);

  const actorsOf = new Map<string, string[]>();
  for (const e of events) if (e.type === 'process') actorsOf.set(e.src, [...e.actors]);
  const actorsOfProcess = (name: string) => actorsOf.get(name) ?? [name];

  const pauses = new Map<string, Interval[]>();
  const stops = new Map<string, Interval[]>();
  const addTo = (map: Map<string, Interval[]>, process: string, span: Interval) => {
    for (const actor of actorsOfProcess(process)) {
      const list = map.get(actor) ?? [];
      list.push(span);
      map.set(actor, list);
    }
  };
  const stoppedSince = new Map<string, number>();
  const kills: { at: number; actor: string }[] = [];
  const killedAt = new Map<string, number>();

  const calls = new Map<string, Call>();
  const openCalls = new Map<string, Omit<Call, 'endAt' | 'outcome' | 'error'>>();
  const grants = new Map<string, MutableHold>();
  const attempts: Attempt[] = [];
  const lost: RunHistory['lost'][number][] = [];
  const faults: Fault[] = [];
  const unhandled: RunHistory['unhandled'][number][] = [];
  const leaks: RunHistory['leaks'][number][] = [];
  const noExit: string[] = [];
  const warnings: RunHistory['warnings'][number][] = [];
  let startAt = 0;
  let healAt: number | undefined;

  for (const e of events) {
    const at = ms(e.t);
    switch (e.type) {
      case 'invoke': {
        openCalls.set(`${e.src}#${e.call}`, {
          actor: e.src,
          op: e.op,
          key: e.key,
          hold: e.hold,
          invokeAt: at,
          boundMs: e.boundMs,
        });
        if (e.op === 'release' && e.hold !== undefined) {
          const hold = grants.get(e.hold);
          if (hold !== undefined && hold.releaseAt === undefined) hold.releaseAt = at;
        }
        break;
      }
      case 'ok':
      case 'fail': {
        const id = `${e.src}#${e.call}`;
        const open = openCalls.get(id);
        if (open === undefined) break;
        openCalls.delete(id);
        calls.set(id, {
          ...open,
          endAt: at,
          outcome: e.type,
          error: e.type === 'fail' ? e.error : undefined,
        });
        if (
          e.type === 'ok' &&
          (e.op === 'lock' || e.op === 'tryLock') &&
          e.hold !== undefined &&
          e.fence !== undefined &&
          e.key !== undefined
        ) {
          const until = e.validUntil === undefined ? Number.POSITIVE_INFINITY : ms(e.validUntil);
          grants.set(e.hold, {
            id: e.hold,
            actor: e.src,
            key: e.key,
            fence: e.fence,
            ttlMs: e.ttlMs,
            invokeAt: open.invokeAt,
            start: at,
            validity: [{ at, until }],
            lostAt: undefined,
            lostReason: undefined,
            releaseAt: undefined,
            killedAt: undefined,
            renewSent: [],
          });
        }
        break;
      }
      case 'renew': {
        grants.get(e.hold)?.validity.push({ at, until: ms(e.validUntil) });
        break;
      }
      case 'renew-sent': {
        if (e.hold !== undefined) grants.get(e.hold)?.renewSent.push(at);
        break;
      }
      case 'lost': {
        const hold = grants.get(e.hold);
        if (hold !== undefined && hold.lostAt === undefined) {
          hold.lostAt = at;
          hold.lostReason = e.reason;
        }
        lost.push({ at, actor: e.src, hold: e.hold, key: e.key, reason: e.reason });
        break;
      }
      case 'attempt':
        attempts.push({ at, key: e.key, fence: e.fence, hold: e.hold, accepted: e.accepted });
        break;
      case 'stall':
        addTo(pauses, e.src, { from: ms(e.from), to: ms(e.to) });
        break;
      case 'worker-pause':
        stoppedSince.set(e.worker, at);
        break;
      case 'worker-resume':
      case 'worker-kill': {
        const since = stoppedSince.get(e.worker);
        if (since !== undefined) {
          addTo(pauses, e.worker, { from: since, to: at });
          addTo(stops, e.worker, { from: since, to: at });
          stoppedSince.delete(e.worker);
        }
        if (e.type === 'worker-kill') {
          for (const actor of actorsOfProcess(e.worker)) {
            kills.push({ at, actor });
            killedAt.set(actor, at);
          }
        }
        break;
      }
      case 'fault':
        faults.push({ at, action: e.action, target: e.target, disruptive: e.disruptive });
        break;
      case 'phase':
        if (e.phase === 'start') startAt = at;
        if (e.phase === 'heal') healAt = at;
        break;
      case 'unhandled':
        unhandled.push({ at, actor: e.src, error: e.error });
        break;
      case 'handles':
        if (e.leaked.length > 0) leaks.push({ actor: e.src, leaked: e.leaked });
        break;
      case 'no-exit':
        noExit.push(e.worker);
        break;
      case 'warning':
        warnings.push({ at, actor: e.src, message: e.message });
        break;
      default:
        break;
    }
  }
  for (const [worker, since] of stoppedSince) {
    addTo(pauses, worker, { from: since, to: end });
    addTo(stops, worker, { from: since, to: end });
  }
  for (const [id, open] of openCalls) {
    calls.set(id, { ...open, endAt: undefined, outcome: 'open', error: undefined });
  }
  const holds = [...grants.values()].map((hold) => finishHold(hold, killedAt.get(hold.actor), end));
  return {
    t0,
    end,
    holds,
    calls: [...calls.values()],
    attempts,
    lost,
    pauses,
    stops,
    kills,
    faults,
    startAt,
    healAt,
    unhandled,
    leaks,
    noExit,
    warnings,
  };
}

type MutableHold = {
  -readonly [K in keyof Omit<Hold, 'validityEnd' | 'end' | 'endReason'>]: Hold[K];
} & { validity: { at: number; until: number }[]; renewSent: number[] };

/**
 * Works out where a hold's window ends. Validity starts at the grant's `validUntil`; a later
 * change counts only if it arrived while the hold was still valid (after that the library had
 * already given it up), and it may also shorten it (an `extend` with a shorter TTL).
 */
function finishHold(hold: MutableHold, actorKilledAt: number | undefined, runEnd: number): Hold {
  let validityEnd = hold.validity[0]?.until ?? Number.POSITIVE_INFINITY;
  for (const change of hold.validity.slice(1)) {
    if (change.at <= validityEnd) validityEnd = change.until;
  }
  const killedAt =
    actorKilledAt !== undefined && actorKilledAt >= hold.start ? actorKilledAt : undefined;
  const candidates: [number, Hold['endReason']][] = [
    [hold.releaseAt ?? Number.POSITIVE_INFINITY, 'release'],
    [hold.lostAt ?? Number.POSITIVE_INFINITY, 'lost'],
    [validityEnd, 'validity'],
    [killedAt ?? Number.POSITIVE_INFINITY, 'killed'],
    [runEnd, 'run-end'],
  ];
  let [end, endReason] = candidates[0] as [number, Hold['endReason']];
  for (const [time, reason] of candidates) {
    if (time < end) [end, endReason] = [time, reason];
  }
  return { ...hold, killedAt, validityEnd, end: Math.max(end, hold.start), endReason };
}

/** Total time of `spans` that falls inside [`from`, `to`]. */
export function overlapWith(
  spans: readonly Interval[] | undefined,
  from: number,
  to: number,
): number {
  let total = 0;
  for (const span of spans ?? []) {
    total += Math.max(0, Math.min(span.to, to) - Math.max(span.from, from));
  }
  return total;
}

/** Whether some span of `spans` touches [`from`, `to`]. */
export function touches(spans: readonly Interval[] | undefined, from: number, to: number): boolean {
  return (spans ?? []).some((span) => span.from <= to && span.to >= from);
}
