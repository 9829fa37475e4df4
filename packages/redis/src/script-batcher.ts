import { BackendError } from '@lock/core';
import { toBackendError } from './errors.js';
import type { BatchableScript } from './scripts.js';

/** Runs one lock's call of `script` on its own (its single form, or any equivalent). */
export type RunLone = (
  script: BatchableScript,
  tag: string,
  args: readonly string[],
  what: string,
  key: string,
) => Promise<unknown>;

/** Runs `script`'s batched form with these arguments (one command, one round trip). */
export type RunMany = (
  script: BatchableScript['many'],
  argv: readonly string[],
  what: string,
) => Promise<unknown>;

interface Pending {
  readonly script: BatchableScript;
  readonly tag: string;
  readonly args: readonly string[];
  readonly what: string;
  readonly key: string;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Most locks in one batched script run, so that one run stays short on the server. */
const MAX_BATCH = 128;

/**
 * Merges script calls made in the same tick into one command per run of the same script.
 *
 * With many locks taken and released at once (50 in flight on one connection), a script run
 * per lock costs Redis a Lua call each and the client a command each; the batched form does the
 * same work for all of them in one run, so the server's per-call overhead is paid once. Each
 * caller still gets its own reply after one round trip: a call waits only for the end of the
 * current tick (`process.nextTick`, before node-redis itself writes on `setImmediate`).
 *
 * Calls are sent in the order they were made; only neighbours with the same script merge, so a
 * release and a later acquire of the same key never swap places. A lone call goes out on its own
 * (`runLone`: the backend may send it in a cheaper form than the script). A lock whose call
 * fails inside a batch gets its own error (the batched script
 * runs each lock's call under `pcall`); when the whole command fails (no reply, out of memory),
 * every caller in it gets the error.
 *
 * Hand-written rather than taken from a library: the batching libraries we found (dataloader
 * and the like) batch reads by key and reorder or deduplicate them, which lock operations
 * must never do.
 */
export class ScriptBatcher {
  readonly #runLone: RunLone;
  readonly #runMany: RunMany;
  #pending: Pending[] = [];

  constructor(runLone: RunLone, runMany: RunMany) {
    this.#runLone = runLone;
    this.#runMany = runMany;
  }

  /**
   * Queues one lock's call to `script` (the lock's hash tag and the caller's arguments) and
   * settles with that lock's reply.
   */
  call(
    script: BatchableScript,
    tag: string,
    args: readonly string[],
    what: string,
    key: string,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) process.nextTick(() => this.#flush());
      this.#pending.push({ script, tag, args, what, key, resolve, reject });
    });
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    let start = 0;
    while (start < pending.length) {
      const script = (pending[start] as Pending).script;
      let end = start + 1;
      while (
        end < pending.length &&
        end - start < MAX_BATCH &&
        (pending[end] as Pending).script === script
      ) {
        end++;
      }
      this.#send(pending.slice(start, end));
      start = end;
    }
  }

  #send(batch: Pending[]): void {
    const first = batch[0] as Pending;
    if (batch.length === 1) {
      this.#runLone(first.script, first.tag, first.args, first.what, first.key).then(
        first.resolve,
        first.reject,
      );
      return;
    }
    const argv: string[] = [];
    for (const call of batch) argv.push(call.tag, ...call.args);
    this.#runMany(first.script.many, argv, first.what).then(
      (replies) => {
        if (!Array.isArray(replies) || replies.length !== batch.length) {
          const error = new BackendError(
            `redis answered a batched script for ${batch.length} locks with an unexpected reply`,
            { cause: replies },
          );
          for (const call of batch) call.reject(error);
          return;
        }
        for (const [i, call] of batch.entries()) {
          const reply: unknown = replies[i];
          if (reply instanceof Error) call.reject(toBackendError(reply, call.what, call.key));
          else call.resolve(reply);
        }
      },
      (error: unknown) => {
        for (const call of batch) call.reject(error);
      },
    );
  }
}
