import type { RunContext } from '../run/run-context.js';

/**
 * Faults the scenarios are made of. Each draws its choices (whom, how long) from the run's
 * seeded random numbers and resolves once its fault has been undone.
 * @module
 */

/** Every server index of the run. */
export function allServers(context: RunContext): number[] {
  return context.topology.servers.map((_, i) => i);
}

/** Stops the process of a current holder for `ms`. */
export async function pauseHolder(context: RunContext, ms: number): Promise<void> {
  const holder = await context.waitForHolder();
  if (holder !== undefined) await context.pauseWorker(holder.actor, ms);
}

/** Kills the process of a current holder; a replacement worker starts. */
export async function killHolder(context: RunContext): Promise<void> {
  const holder = await context.waitForHolder();
  if (holder !== undefined) await context.killWorker(holder.actor);
}

/** Cuts a current holder off from every server (its proxies blackhole) for `ms`. */
export async function partitionHolder(context: RunContext, ms: number): Promise<void> {
  const holder = await context.waitForHolder();
  if (holder !== undefined) {
    await context.proxyFault([holder.actor], allServers(context), { kind: 'blackhole' }, ms);
  }
}

/** Drops every reply to one worker (its requests still land) for `ms`. */
export async function dropRepliesOfOne(context: RunContext, ms: number): Promise<void> {
  const worker = context.random.pick(context.workerNames());
  await context.proxyFault([worker], allServers(context), { kind: 'drop-replies' }, ms);
}

/**
 * Delays the replies to a current holder by `delayMs` for `slowMs` (its renewals now come back
 * late), then cuts it off for `cutMs`: a client that counts validity from replies overstays.
 */
export async function slowThenCutHolder(
  context: RunContext,
  delayMs: number,
  slowMs: number,
  cutMs: number,
): Promise<void> {
  const holder = await context.waitForHolder();
  if (holder === undefined) return;
  const servers = allServers(context);
  await context.proxyFault([holder.actor], servers, { kind: 'delay', downMs: delayMs }, slowMs);
  await context.proxyFault([holder.actor], servers, { kind: 'blackhole' }, cutMs);
}

/** The etcd leader's index, or a random member when none is known. */
export async function leaderOrAny(context: RunContext): Promise<number> {
  const leader = await context.etcdLeader().catch(() => -1);
  return leader >= 0 ? leader : context.random.int(0, context.topology.servers.length - 1);
}

/** Waits a random gap of [min, max] ms; false when the run's fault phase is over. */
export function gap(context: RunContext, min: number, max: number): Promise<boolean> {
  return context.sleep(context.random.int(min, max));
}
