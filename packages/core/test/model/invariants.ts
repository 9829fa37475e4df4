// The reference model's checks, run after every step (and after every timer inside a clock
// step): a mutex with fences and TTLs, against which every lock handle's claims are judged.
import { BackendError, isLockError } from '../../src/errors.js';
import { lossTimerLeadMs } from '../../src/locker.js';
import { SimNetworkError } from './sim-network.js';
import type { CallRecord, LockRecord, Root, World } from './world.js';

/** An error a `withLock` routine throws on purpose; `withLock` must pass it through as is. */
export class WorkError extends Error {
  constructor(label: string) {
    super(`routine ${label} failed on purpose`);
    this.name = 'WorkError';
  }
}

/** What a lock handle last claimed with certainty, per key (for the fence order). */
const lastCertain = new WeakMap<World, Map<string, { label: string; fence: number }>>();

/**
 * After every step:
 * - a lock that is `held` with `validUntil` in the future is the store's current holder, and the
 *   store keeps it at least until `validUntil` (so never two holders by certain validity);
 * - locks held with certainty one after another have strictly growing fences;
 * - a lock whose `validUntil` has passed, once timers have fired up to it, is no longer held;
 * - every call with a deadline has settled once timers have fired up to it;
 * - the connections saw no call after `close()` and were not closed under a call.
 */
export function checkStep(world: World): void {
  const now = world.manual.now();
  let certain = lastCertain.get(world);
  if (certain === undefined) {
    certain = new Map();
    lastCertain.set(world, certain);
  }
  for (const record of world.locks) {
    const lock = record.handle;
    if (lock === undefined) continue;
    const validUntil = lock.validUntil;
    const seen = record.seen;
    const renewals = record.root.backend.renewalsSent(lock.owner);
    record.seen = { validUntil, ttlMs: lock.ttlMs, renewals };
    if (seen !== undefined && (validUntil < seen.validUntil || lock.ttlMs !== seen.ttlMs)) {
      record.rearmedAt = now;
    }
    if (now < validUntil) {
      // Reading `held` before `validUntil` changes nothing.
      if (!lock.held) continue;
      if (seen !== undefined && validUntil < seen.validUntil && renewals === seen.renewals) {
        world.violation(
          `${record.label}'s validUntil moved earlier (${seen.validUntil} → ${validUntil}) with no renewal sent`,
        );
      }
      const holding = world.store.peek(record.key);
      if (holding === undefined || holding.owner !== lock.owner || holding.expiresAt <= now) {
        const other =
          holding === undefined || holding.expiresAt <= now
            ? 'nobody'
            : holding.owner.slice(0, holding.owner.indexOf('.'));
        world.violation(
          `${record.label} on ${record.key} is held with certainty until ${validUntil}, but the store's holder is ${other}`,
        );
        continue;
      }
      if (holding.expiresAt < validUntil) {
        world.violation(
          `${record.label} on ${record.key} is held with certainty until ${validUntil}, but the store drops it at ${holding.expiresAt}`,
        );
      }
      const previous = certain.get(record.key);
      if (
        previous !== undefined &&
        previous.label !== record.label &&
        lock.fence <= previous.fence
      ) {
        world.violation(
          `${record.label} on ${record.key} holds fence ${lock.fence} after ${previous.label} held fence ${previous.fence}`,
        );
      }
      certain.set(record.key, { label: record.label, fence: lock.fence });
    } else if (world.firedUpTo >= validUntil && lock.held) {
      // Timers have had their chance: the loss timer should have fired. The read just made the
      // handle notice; its loss check below reports how late that was.
      world.violation(
        `${record.label} was still held at ${now}, after its validUntil ${validUntil}`,
      );
    }
  }
  for (const call of world.calls) checkDeadline(world, call);
  for (const root of world.roots) takeProblems(world, root);
}

function checkDeadline(world: World, call: CallRecord): void {
  if (call.settled || call.started || call.reported || world.firedUpTo < call.deadline) return;
  call.reported = true;
  world.violation(
    `${call.label} (started at ${call.startedAt}) had not settled by its deadline ${call.deadline}`,
  );
}

function takeProblems(world: World, root: Root): void {
  for (const problem of root.backend.problems.splice(0)) world.violation(problem);
}

/**
 * A lock was declared lost (its `onLost` or `signal` fired). That must be no later than its
 * `validUntil`, unless its loss timer was late because time jumped past the moment it was due:
 * `lossTimerLeadMs` before `validUntil`, or when its validity was lowered or its TTL changed if
 * that was later (the timer is then re-armed to fire at once). A jump that started after that
 * moment, once timers had fired up to it, is no excuse: the lead exists to absorb it.
 *
 * A loss that comes with `validUntil` lowered though no renewal was sent since the last check is
 * reported too: replies and timeouts never make a lock's true validity shorter.
 */
export function checkLoss(world: World, record: LockRecord): void {
  const lock = record.handle;
  if (lock === undefined) return;
  const now = world.manual.now();
  const validUntil = lock.validUntil;
  world.log(`${record.label} lost (validUntil ${validUntil})`);
  const seen = record.seen;
  if (
    seen !== undefined &&
    validUntil < seen.validUntil &&
    record.root.backend.renewalsSent(lock.owner) === seen.renewals
  ) {
    world.violation(
      `${record.label} was declared lost at ${now} as its validUntil moved earlier (${seen.validUntil} → ${validUntil}) with no renewal sent`,
    );
    return;
  }
  if (now <= validUntil) return;
  const changed =
    seen !== undefined && (validUntil !== seen.validUntil || lock.ttlMs !== seen.ttlMs);
  const due = Math.max(validUntil - lossTimerLeadMs(lock.ttlMs), changed ? now : record.rearmedAt);
  if (due >= now) return;
  const jumps = world.jumps;
  if (jumps !== undefined && now === jumps.end && due >= world.firedUpTo) return;
  world.violation(
    `${record.label} was declared lost at ${now}, after its validUntil ${validUntil}${
      jumps === undefined ? '' : ` (time last jumped ${jumps.start} → ${jumps.end})`
    }`,
  );
}

/** When a root locker's `close()` resolves: nothing of it is left running, and nothing is held. */
export function checkClosed(world: World, root: Root): void {
  root.closed = true;
  if (root.view.pending > 0) {
    world.violation(`${root.name}'s close() resolved with ${root.view.pending} timer(s) armed`);
  }
  const under = world.network.pendingOf(root.name);
  if (under > 0)
    world.violation(`${root.name}'s close() resolved with ${under} request(s) under way`);
  for (const record of world.locks) {
    if (record.root === root && record.handle?.held) {
      world.violation(`${record.label} is still held after ${root.name}'s close() resolved`);
    }
  }
  takeProblems(world, root);
}

/**
 * Every rejection is a LockError (or the routine's own error): a BackendError keeps the driver's
 * error as `cause`, no message shows an owner token's secret, and a timeout is never early.
 */
export function checkRejection(
  world: World,
  label: string,
  error: unknown,
  timeout?: { readonly startedAt: number; readonly ms: number },
): void {
  if (error instanceof WorkError) return;
  if (!isLockError(error)) {
    world.violation(`${label} rejected with a non-LockError: ${String(error)}`);
    return;
  }
  if (error instanceof BackendError && !(error.cause instanceof SimNetworkError)) {
    world.violation(`${label}: BackendError without the driver's error as cause`);
  }
  if (/\.[A-Za-z0-9_-]{20,}/.test(error.message)) {
    world.violation(`${label}: an error message shows an owner token: ${error.message}`);
  }
  if (
    timeout !== undefined &&
    isLockError(error, 'TIMEOUT') &&
    world.manual.now() < timeout.startedAt + timeout.ms
  ) {
    world.violation(
      `${label} timed out at ${world.manual.now()}, before its timeout of ${timeout.ms} ms`,
    );
  }
}

/** At the end of a run, after every locker closed: everything settled, nothing left armed. */
export function checkEnd(world: World): void {
  for (const call of world.calls) {
    if (!call.settled) world.violation(`${call.label} never settled`);
  }
  for (const root of world.roots) {
    if (!root.closed) world.violation(`${root.name}'s close() never resolved`);
  }
  if (world.manual.pendingTimers > 0) {
    world.violation(`${world.manual.pendingTimers} timer(s) still armed after every locker closed`);
  }
  if (world.network.pending.length > 0) {
    world.violation(
      `${world.network.pending.length} request(s) still under way after every locker closed`,
    );
  }
  for (const root of world.roots) takeProblems(world, root);
}
