// The program's user calls, made on the world's lockers as an application would make them, each
// recorded with the deadline it must settle by and checked when it settles.
import type { LockHandle } from '../../src/lock-handle.js';
import { checkClosed, checkLoss, checkRejection, WorkError } from './invariants.js';
import type { Step } from './program.js';
import type { Actor, LockRecord, World } from './world.js';

type UserStep = Exclude<Step, { t: 'net' | 'flush' | 'advance' | 'jump' | 'toTimer' }>;

/** Runs one user step. */
export function runUserStep(world: World, step: UserStep): void {
  switch (step.t) {
    case 'tryLock':
      tryLock(world, step);
      return;
    case 'lock':
      lock(world, step);
      return;
    case 'withLock':
      withLock(world, step);
      return;
    case 'extend': {
      const record = pickLock(world, step.lock);
      if (record === undefined) return;
      const handle = record.handle as LockHandle;
      const label = world.label(`extend(${record.label}, ${step.ttl ?? 'same'})`);
      world.track(label, handle.extend(step.ttl), world.manual.now() + world.config.opTimeoutMs, {
        onError: (error) => checkRejection(world, label, error),
      });
      return;
    }
    case 'release': {
      const record = pickLock(world, step.lock);
      if (record === undefined) return;
      const label = world.label(`release(${record.label})`);
      record.releasedByProgram = true;
      const handle = record.handle as LockHandle;
      world.track(label, handle.release(), world.manual.now() + world.config.opTimeoutMs, {
        onError: (error) => checkRejection(world, label, error),
      });
      return;
    }
    case 'readHeld': {
      const record = pickLock(world, step.lock);
      if (record !== undefined) world.log(`${record.label}.held = ${record.handle?.held}`);
      return;
    }
    case 'abort': {
      const abortable = world.calls.filter((call) => call.abort !== undefined && !call.settled);
      const call = abortable[step.call % Math.max(1, abortable.length)];
      if (call === undefined) return;
      world.log(`abort ${call.label}`);
      call.abort?.abort(new Error('the program gave up'));
      return;
    }
    case 'finishWork': {
      const open = world.works.filter((work) => !work.done);
      const work = open[step.work % Math.max(1, open.length)];
      if (work === undefined) return;
      world.log(`finish ${work.label}${step.fail ? ' (throws)' : ''}`);
      work.finish(step.fail);
      return;
    }
    case 'session':
      session(world, step.actor, step.ttl);
      return;
    case 'close':
      close(world, world.actorOf(step.actor));
      return;
    case 'elect':
      elect(world, step);
      return;
    case 'resign':
    case 'stop': {
      const election = world.elections[step.election % Math.max(1, world.elections.length)];
      if (election === undefined) return;
      const label = world.label(`${step.t}(${election.label})`);
      const done = step.t === 'resign' ? election.election.resign() : election.election.stop();
      world.track(label, done, Number.POSITIVE_INFINITY, {
        onError: (error) => world.violation(`${label} rejected: ${String(error)}`),
      });
      return;
    }
  }
}

function pickLock(world: World, index: number): LockRecord | undefined {
  const handed = world.locks.filter((record) => record.handle !== undefined);
  return handed[index % Math.max(1, handed.length)];
}

/** A lock record whose `onLost` runs the loss check; the handle is set when it is handed out. */
function newRecord(world: World, actor: Actor, key: string, what: string): LockRecord {
  return {
    label: world.label(`${what}(${actor.name}, ${key})`),
    key,
    root: actor.root,
    handle: undefined,
    seen: undefined,
    rearmedAt: Number.NEGATIVE_INFINITY,
    releasedByProgram: false,
  };
}

/** The handle was handed to the program: check its fence against the store's grant. */
function handOut(world: World, record: LockRecord, handle: LockHandle): void {
  record.handle = handle;
  record.seen = {
    validUntil: handle.validUntil,
    ttlMs: handle.ttlMs,
    renewals: record.root.backend.renewalsSent(handle.owner),
  };
  record.rearmedAt = world.manual.now();
  world.locks.push(record);
  const grant = world.store.grantOf(handle.owner);
  if (grant === undefined || grant.key !== record.key || grant.fence !== handle.fence) {
    world.violation(
      `${record.label} was handed out with fence ${handle.fence}, but the store granted ${
        grant === undefined ? 'nothing' : `fence ${grant.fence} on ${grant.key}`
      } to its owner`,
    );
  }
  world.log(`${record.label} handed out: fence ${handle.fence}, validUntil ${handle.validUntil}`);
}

function tryLock(world: World, step: Extract<Step, { t: 'tryLock' }>): void {
  const actor = world.actorOf(step.actor);
  const key = world.keyOf(step.key);
  const record = newRecord(world, actor, key, 'tryLock');
  const promise = actor.locker.tryLock(key, {
    ...(step.ttl === undefined ? {} : { ttl: step.ttl }),
    onLost: () => checkLoss(world, record),
  });
  world.track(record.label, promise, world.manual.now() + world.config.opTimeoutMs, {
    onValue: (handle) => handOut(world, record, handle),
    onError: (error) => checkRejection(world, record.label, error),
  });
}

function lock(world: World, step: Extract<Step, { t: 'lock' }>): void {
  const actor = world.actorOf(step.actor);
  const key = world.keyOf(step.key);
  const record = newRecord(world, actor, key, 'lock');
  const abort = step.abortable ? new AbortController() : undefined;
  const now = world.manual.now();
  const promise = actor.locker.lock(key, {
    ...(step.ttl === undefined ? {} : { ttl: step.ttl }),
    ...(step.timeout === undefined ? {} : { timeout: step.timeout }),
    ...(abort === undefined ? {} : { signal: abort.signal }),
    keepalive: step.keepalive,
    onLost: () => checkLoss(world, record),
  });
  world.track(record.label, promise, deadlineOf(world, now, step.timeout), {
    ...(abort === undefined ? {} : { abort }),
    onValue: (handle) => handOut(world, record, handle),
    onError: (error) =>
      checkRejection(
        world,
        record.label,
        error,
        step.timeout === undefined ? undefined : { startedAt: now, ms: step.timeout },
      ),
  });
}

/** A zero timeout is one attempt, bounded by the driver's timeout; none is unbounded. */
function deadlineOf(world: World, now: number, timeout: number | undefined): number {
  if (timeout === undefined) return Number.POSITIVE_INFINITY;
  return now + (timeout === 0 ? world.config.opTimeoutMs : timeout);
}

function withLock(world: World, step: Extract<Step, { t: 'withLock' }>): void {
  const actor = world.actorOf(step.actor);
  const key = world.keyOf(step.key);
  const record = newRecord(world, actor, key, 'withLock');
  const now = world.manual.now();
  let lostWhileRunning = false;
  const promise = actor.locker.withLock(
    key,
    async (signal, handle) => {
      call.started = true;
      handOut(world, record, handle);
      signal.addEventListener('abort', () => world.log(`${record.label}: signal aborted`));
      const fail = await new Promise<boolean>((resolve) => {
        const work = {
          label: record.label,
          done: false,
          finish: (failed: boolean) => {
            work.done = true;
            resolve(failed);
          },
        };
        world.works.push(work);
        if (world.finishWorkAtOnce) work.finish(false);
      });
      lostWhileRunning = signal.aborted;
      if (fail) throw new WorkError(record.label);
      return 'done';
    },
    {
      ...(step.timeout === undefined ? {} : { timeout: step.timeout }),
      onLost: () => checkLoss(world, record),
    },
  );
  const call = world.track(record.label, promise, deadlineOf(world, now, step.timeout), {
    onValue: () => {
      // close() releases the locks of routines still running (by design; they are told only if
      // the release finds the lock gone), and so may the program itself: no claim then.
      if (lostWhileRunning && !record.releasedByProgram && !actor.locker.signal.aborted) {
        world.violation(
          `${record.label} resolved although its lock was lost while the routine ran`,
        );
      }
    },
    onError: (error) =>
      checkRejection(
        world,
        record.label,
        error,
        step.timeout === undefined ? undefined : { startedAt: now, ms: step.timeout },
      ),
  });
}

function session(world: World, actorIndex: number, ttl: number): void {
  const parent = world.actorOf(actorIndex);
  try {
    const name = `${parent.name}s${world.actors.length}`;
    const locker = parent.locker.session({
      ttl,
      identity: name,
      onError: (error) => world.log(`${name} onError: ${(error as Error).message}`),
    });
    world.actors.push({ name, locker, root: parent.root });
    world.log(`session ${name} opened`);
  } catch (error) {
    checkRejection(world, `session(${parent.name})`, error);
  }
}

function close(world: World, actor: Actor): void {
  const label = world.label(`close(${actor.name})`);
  const isRoot = actor.root.locker === actor.locker;
  world.track(label, actor.locker.close(), Number.POSITIVE_INFINITY, {
    onValue: () => {
      if (isRoot && !actor.root.closed) checkClosed(world, actor.root);
    },
    onError: (error) => world.violation(`${label} rejected: ${String(error)}`),
  });
}

function elect(world: World, step: Extract<Step, { t: 'elect' }>): void {
  const actor = world.actorOf(step.actor);
  const key = world.keyOf(step.key);
  const label = world.label(`elect(${actor.name}, ${key})`);
  try {
    const election = actor.locker.elect(key, {
      ...(step.ttl === undefined ? {} : { ttl: step.ttl }),
      onLeader: (signal, handle) => {
        if (signal.aborted) world.violation(`${label}: onLeader ran with an aborted signal`);
        const record = newRecord(world, actor, key, `leader of ${label}`);
        handOut(world, record, handle);
        const lockSignal = handle.signal;
        // A signal also aborts when a release finds the lock gone: that is not a loss of a held lock.
        const onAbort = () => {
          if ((lockSignal.reason as { reason?: string }).reason !== 'released-elsewhere') {
            checkLoss(world, record);
          }
        };
        lockSignal.addEventListener('abort', onAbort, { once: true });
      },
      onError: (error) => world.log(`${label} onError: ${(error as Error).message}`),
    });
    world.elections.push({ label, election });
  } catch (error) {
    checkRejection(world, label, error);
  }
}

/** In the epilogue: every routine finishes, and every root locker closes. */
export function closeEverything(world: World): void {
  world.finishWorkAtOnce = true;
  for (const work of world.works) if (!work.done) work.finish(false);
  for (const root of world.roots) {
    close(world, { name: root.name, locker: root.locker, root });
  }
}
