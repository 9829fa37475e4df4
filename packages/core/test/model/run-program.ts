// Runs one program against core over the simulated backend and returns what the reference model
// found wrong. Deterministic: the clock is manual, the network only moves when told, and
// `Math.random` (core's backoff jitter) is seeded from the program for the run's length.
// Unhandled rejections are not collected here: jest hands tests a copy of `process` whose
// listeners never hear of them, and fails the running test on one itself (checked).
import { checkEnd, checkStep } from './invariants.js';
import type { Program, Step } from './program.js';
import { closeEverything, runUserStep } from './user-steps.js';
import { World } from './world.js';

/** The outcome of one run. */
export interface RunOutcome {
  readonly violations: readonly string[];
  /** Every step and event, when run with `trace`. */
  readonly trace: readonly string[] | undefined;
}

/** How long the epilogue may run to let every call settle once all lockers are closed. */
const EPILOGUE_ROUNDS = 200;

/** Runs `program`; with `trace`, records every step and network event. */
export async function runProgram(program: Program, trace = false): Promise<RunOutcome> {
  const world = new World(program.config, trace);
  const random = Math.random;
  Math.random = seededRandom(program.config.randomSeed);
  try {
    const check = () => checkStep(world);
    for (const step of program.steps) {
      world.log(`step ${JSON.stringify(step)}`);
      await runStep(world, step, check);
      await world.settle();
      check();
      if (world.violations.length > 0) break;
    }
    if (world.violations.length === 0) {
      world.log('epilogue: finish every routine, close every locker');
      closeEverything(world);
      for (let round = 0; round < EPILOGUE_ROUNDS; round++) {
        await world.advance(10, true, check);
        if (world.calls.every((call) => call.settled) && world.roots.every((root) => root.closed))
          break;
      }
      await world.flush();
      await world.settle();
      checkEnd(world);
    }
  } finally {
    Math.random = random;
  }
  return { violations: world.violations, trace: world.trace };
}

async function runStep(world: World, step: Step, check: () => void): Promise<void> {
  switch (step.t) {
    case 'net':
      world.network.perform(step.action, step.index);
      return;
    case 'flush':
      await world.flush();
      return;
    case 'advance':
      await world.advance(step.ms, step.healthy, check);
      return;
    case 'jump':
      world.jump(step.ms);
      return;
    case 'toTimer': {
      const due = world.clock.nextDue();
      const now = world.manual.now();
      if (Number.isFinite(due) && due - step.before >= now) {
        await world.advance(due - step.before - now, false, check);
      }
      return;
    }
    default:
      runUserStep(world, step);
  }
}

/** mulberry32: a small seeded generator, good enough for backoff jitter. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
