/**
 * The semaphore and read-write lock rules as one pure function: (state, command, now) → (new
 * state, reply). The in-process backend runs it on its table, core's compare-and-set fallback
 * on the record it reads, and native backends (a Redis script, an etcd transaction) port it; its
 * unit tests are the reference. No I/O, no clock of its own: `now` is whatever clock judges
 * expiry for the caller (the in-process store's, the server's, or the fallback's observations).
 *
 * Inputs are never mutated; an entry that did not change is returned as the same object, so a
 * caller can tell new and renewed entries from untouched ones by identity (the fallback re-stamps
 * exactly those).
 * @module
 */
import type {
  BackendSemaphoreInfo,
  SemaphoreAcquireRequest,
  SemaphoreAcquireResult,
  SemaphoreKind,
  SemaphoreMode,
  SemaphoreOwnerResult,
} from './backend.js';

/** A holder or a waiter in a semaphore's record. */
export interface SemaphoreEntry {
  /** The owner token. */
  readonly owner: string;
  /** Permits held or wanted. */
  readonly count: number;
  /** `'permit'`, `'read'` or `'write'`. */
  readonly mode: SemaphoreMode;
  /** When it expires, on the clock of `now`. */
  readonly expiresAt: number;
  /** The TTL it was last written with, in ms. */
  readonly ttlMs: number;
  /** The grant's fence (holders only; 0 for waiters). */
  readonly fence: number;
}

/** Everything one key's record holds. */
export interface SemaphoreState {
  readonly kind: SemaphoreKind;
  readonly permits: number;
  /** The last fence handed out; kept while the key is idle so that fences only grow. */
  readonly fence: number;
  /** Holders, in grant order. */
  readonly holders: readonly SemaphoreEntry[];
  /** The line, first come first. */
  readonly waiters: readonly SemaphoreEntry[];
}

/** What to do to a key's record. */
export type SemaphoreCommand =
  | { readonly op: 'acquire'; readonly request: SemaphoreAcquireRequest }
  | { readonly op: 'extend'; readonly owner: string; readonly ttlMs: number }
  | { readonly op: 'release'; readonly owner: string };

/** The outcome of {@link decideSemaphore}. */
export interface SemaphoreDecision<R> {
  /** The record after the command (`undefined` only if there was none and none was made). */
  readonly state: SemaphoreState | undefined;
  /** The reply for the caller. */
  readonly reply: R;
  /** Whether `state` differs from the input (write it back only then). */
  readonly changed: boolean;
  /** Whether permits were freed or the line moved: wake `watch(key)` subscribers. */
  readonly wake: boolean;
}

/** The kind of record a request of `mode` belongs to. */
export function kindOf(mode: SemaphoreMode): SemaphoreKind {
  return mode === 'permit' ? 'semaphore' : 'read-write';
}

/** Applies one command to one key's record at time `now` (see `backend.ts` for the rules). */
export function decideSemaphore(
  state: SemaphoreState | undefined,
  command: Extract<SemaphoreCommand, { op: 'acquire' }>,
  now: number,
): SemaphoreDecision<SemaphoreAcquireResult>;
export function decideSemaphore(
  state: SemaphoreState | undefined,
  command: Exclude<SemaphoreCommand, { op: 'acquire' }>,
  now: number,
): SemaphoreDecision<SemaphoreOwnerResult>;
export function decideSemaphore(
  state: SemaphoreState | undefined,
  command: SemaphoreCommand,
  now: number,
): SemaphoreDecision<SemaphoreAcquireResult | SemaphoreOwnerResult> {
  const live = state === undefined ? undefined : dropExpired(state, now);
  const purged = live !== state;
  const wakeOnPurge = purged;
  if (command.op === 'acquire') return acquire(live, command.request, now, purged, wakeOnPurge);
  if (live === undefined) return { state, reply: 'not-found', changed: false, wake: false };
  if (command.op === 'extend') {
    const index = live.holders.findIndex((h) => h.owner === command.owner);
    if (index < 0) return { state: live, reply: 'not-found', changed: purged, wake: wakeOnPurge };
    const holder = live.holders[index] as SemaphoreEntry;
    const renewed = { ...holder, expiresAt: now + command.ttlMs, ttlMs: command.ttlMs };
    const holders = live.holders.map((h, i) => (i === index ? renewed : h));
    return { state: { ...live, holders }, reply: 'ok', changed: true, wake: wakeOnPurge };
  }
  const holders = live.holders.filter((h) => h.owner !== command.owner);
  const waiters = live.waiters.filter((w) => w.owner !== command.owner);
  const held = holders.length !== live.holders.length;
  if (!held && waiters.length === live.waiters.length) {
    return { state: live, reply: 'not-found', changed: purged, wake: wakeOnPurge };
  }
  return {
    state: { ...live, holders, waiters },
    reply: held ? 'ok' : 'not-found',
    changed: true,
    wake: true,
  };
}

function acquire(
  live: SemaphoreState | undefined,
  request: SemaphoreAcquireRequest,
  now: number,
  purged: boolean,
  wake: boolean,
): SemaphoreDecision<SemaphoreAcquireResult> {
  const kind = kindOf(request.mode);
  const idle = live === undefined || (live.holders.length === 0 && live.waiters.length === 0);
  // Rule 2: a busy record keeps its kind and count; an idle one takes the request's.
  if (!idle && (live.kind !== kind || live.permits !== request.permits)) {
    return {
      state: live,
      reply: { acquired: false, mismatch: { kind: live.kind, permits: live.permits } },
      changed: purged,
      wake,
    };
  }
  const base: SemaphoreState =
    live === undefined
      ? { kind, permits: request.permits, fence: 0, holders: [], waiters: [] }
      : idle && (live.kind !== kind || live.permits !== request.permits)
        ? { ...live, kind, permits: request.permits }
        : live;
  const reset = base !== live;
  const expiresAt = now + request.ttlMs;
  // Rule 3: an owner that holds already is granted again with its own fence.
  const ownIndex = base.holders.findIndex((h) => h.owner === request.owner);
  if (ownIndex >= 0) {
    const own = base.holders[ownIndex] as SemaphoreEntry;
    const renewed = { ...own, expiresAt, ttlMs: request.ttlMs };
    const holders = base.holders.map((h, i) => (i === ownIndex ? renewed : h));
    return {
      state: { ...base, holders },
      reply: { acquired: true, fence: own.fence },
      changed: true,
      wake,
    };
  }
  // Rule 4: strict FIFO with reservation for everyone ahead in line.
  let free = base.permits;
  for (const holder of base.holders) free -= holder.count;
  const place = base.waiters.findIndex((w) => w.owner === request.owner);
  const ahead = place >= 0 ? base.waiters.slice(0, place) : base.waiters;
  let blocked = false;
  for (const waiter of ahead) {
    if (waiter.count > free) {
      blocked = true;
      break;
    }
    free -= waiter.count;
  }
  if (!blocked && request.count <= free) {
    // Rule 5: a grant takes the next fence.
    const fence = base.fence + 1;
    const holder: SemaphoreEntry = {
      owner: request.owner,
      count: request.count,
      mode: request.mode,
      expiresAt,
      ttlMs: request.ttlMs,
      fence,
    };
    const waiters = place >= 0 ? base.waiters.filter((_, i) => i !== place) : base.waiters;
    return {
      state: { ...base, fence, holders: [...base.holders, holder], waiters },
      reply: { acquired: true, fence },
      changed: true,
      wake,
    };
  }
  let inUse = 0;
  let retryAt = Number.POSITIVE_INFINITY;
  for (const holder of base.holders) {
    inUse += holder.count;
    retryAt = Math.min(retryAt, holder.expiresAt);
  }
  for (const waiter of ahead) retryAt = Math.min(retryAt, waiter.expiresAt);
  const reply: SemaphoreAcquireResult = {
    acquired: false,
    inUse,
    holders: base.holders.length,
    ahead: ahead.length,
    retryAfterMs: Number.isFinite(retryAt) ? Math.max(0, retryAt - now) : undefined,
  };
  if (!request.wait) return { state: base, reply, changed: purged || reset, wake };
  // Rule 6: join the line, or keep this owner's place, refreshing its expiry once a third of
  // its TTL has passed: a waiter retrying often (woken by every release) then does not rewrite
  // the record each time, which on a compare-and-set record would starve the holders' writes.
  const own = place >= 0 ? (base.waiters[place] as SemaphoreEntry) : undefined;
  if (own !== undefined && own.expiresAt - now > (request.ttlMs * 2) / 3) {
    return { state: base, reply, changed: purged || reset, wake };
  }
  const entry: SemaphoreEntry = {
    owner: request.owner,
    count: request.count,
    mode: request.mode,
    expiresAt,
    ttlMs: request.ttlMs,
    fence: 0,
  };
  const waiters =
    place >= 0 ? base.waiters.map((w, i) => (i === place ? entry : w)) : [...base.waiters, entry];
  return { state: { ...base, waiters }, reply, changed: true, wake };
}

/** `state` without the holders and waiters whose expiry has passed (the same object if none). */
function dropExpired(state: SemaphoreState, now: number): SemaphoreState {
  const alive = (entry: SemaphoreEntry) => entry.expiresAt > now;
  if (state.holders.every(alive) && state.waiters.every(alive)) return state;
  return { ...state, holders: state.holders.filter(alive), waiters: state.waiters.filter(alive) };
}

/** What `semaphoreInspect` reports for `state` at `now`: `undefined` when the key is idle. */
export function describeSemaphore(
  state: SemaphoreState | undefined,
  now: number,
): BackendSemaphoreInfo | undefined {
  const live = state === undefined ? undefined : dropExpired(state, now);
  if (live === undefined || (live.holders.length === 0 && live.waiters.length === 0)) {
    return undefined;
  }
  let inUse = 0;
  for (const holder of live.holders) inUse += holder.count;
  return {
    kind: live.kind,
    permits: live.permits,
    inUse,
    waiting: live.waiters.length,
    fence: live.fence,
    holders: live.holders.map((h) => ({
      owner: h.owner,
      count: h.count,
      mode: h.mode,
      fence: h.fence,
      remainingMs: Math.max(0, h.expiresAt - now),
    })),
  };
}
