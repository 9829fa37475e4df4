import { type ChildProcess, fork } from 'node:child_process';
import { randomKey } from '@lock/testkit/servers';
import type { ChildReply, ChildTask, Footing } from './child-protocol.js';
import {
  type ContendedResult,
  type HeldManyResult,
  monotonicMs,
  summarizeContention,
} from './workloads.js';

const CHILD = new URL('./child.ts', import.meta.url);
type Task = ChildTask extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

/**
 * A bench child process (child.ts) with its own copy of a suite's adapters: its own lockers and
 * connections to the parent's servers, its own heap.
 */
export class BenchChild {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: ChildReply) => void>();
  #next = 0;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (reply: ChildReply) => {
      const id = 'id' in reply ? reply.id : undefined;
      const settle = id === undefined ? undefined : this.#pending.get(id);
      if (id !== undefined) this.#pending.delete(id);
      settle?.(reply);
    });
    child.on('exit', (code) => {
      for (const settle of this.#pending.values())
        settle({ type: 'error', message: `bench child exited (code ${code})` });
      this.#pending.clear();
    });
  }

  /** Starts a child for `suite` (same Node flags as this process) and waits until it is set up. */
  static async start(suite: string): Promise<BenchChild> {
    const child = fork(CHILD, [suite], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const ready = await new Promise<ChildReply>((resolve) => {
      child.once('message', resolve);
      child.once('exit', (code) =>
        resolve({ type: 'error', message: `bench child exited (code ${code})` }),
      );
    });
    if (ready.type !== 'ready') {
      child.kill();
      throw new Error(
        `bench child for ${suite}: ${'message' in ready ? ready.message : ready.type}`,
      );
    }
    return new BenchChild(child);
  }

  /** Sends `task` and resolves with the child's answer (rejects with the child's error). */
  request(task: Task): Promise<ChildReply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) =>
        reply.type === 'error' ? reject(new Error(reply.message)) : resolve(reply),
      );
      this.#child.send({ ...task, id } as ChildTask);
    });
  }

  /** Closes the child's adapters and waits for it to exit (kills it after 10 s). */
  async close(): Promise<void> {
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.request({ type: 'close' }).catch(() => {});
    await this.#exited;
    clearTimeout(timer);
  }
}

/**
 * One contended run: every child contends for one fresh key with `adapter` (or its defaults
 * variant) from a common start on the shared monotonic clock. Undefined when the adapter has no
 * separate defaults variant.
 */
export async function contendInChildren(
  children: readonly BenchChild[],
  adapter: string,
  footing: Footing,
  durationMs: number,
  workMs: number,
): Promise<ContendedResult | undefined> {
  const key = randomKey('contended');
  const startAt = monotonicMs() + 300; // time for every child to get the task
  const replies = await Promise.all(
    children.map((child) =>
      child.request({
        type: 'contend',
        adapter,
        footing,
        key,
        startAt,
        endAt: startAt + durationMs,
        workMs,
      }),
    ),
  );
  const reports = replies.flatMap((r) => (r.type === 'contended' && r.report ? [r.report] : []));
  if (reports.length === 0) return undefined;
  return summarizeContention(reports, durationMs);
}

/** A held-lock run in a fresh child process, so that its heap holds only this implementation. */
export async function heldInChild(
  suite: string,
  adapter: string,
  count: number,
  ttlMs: number,
  holdMs: number,
): Promise<HeldManyResult> {
  const child = await BenchChild.start(suite);
  try {
    const reply = await child.request({ type: 'held', adapter, count, ttlMs, holdMs });
    if (reply.type !== 'held') throw new Error(`unexpected reply ${reply.type}`);
    return reply.result;
  } finally {
    await child.close();
  }
}
