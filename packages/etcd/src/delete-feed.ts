import { raceSignal } from '@lock/core';
import type { DeleteListener } from './folder-watches.js';

/** Starts listening to a folder's deletes; resolves with a canceller once the watch is live. */
export type ListenDeletes = (folder: Buffer, listener: DeleteListener) => Promise<() => void>;

/**
 * One waiter's view of the deletes in its lock's folder: listens while the waiter is near the
 * head of the line, and keeps the deletes heard but not yet looked at, in revision order.
 */
export class DeleteFeed {
  /** Deletes heard and not yet looked at. */
  events: { readonly entry: string; readonly revision: bigint }[] = [];
  /** Called on every delete heard, and when the watch ends (set while the waiter sleeps). */
  onEvent: (() => void) | undefined;
  readonly #listenDeletes: ListenDeletes;
  readonly #folder: Buffer;
  readonly #stop: AbortSignal;
  #unlisten: (() => void) | undefined;

  constructor(listenDeletes: ListenDeletes, folder: Buffer, stop: AbortSignal) {
    this.#listenDeletes = listenDeletes;
    this.#folder = folder;
    this.#stop = stop;
  }

  /** Whether deletes are being heard now. */
  get live(): boolean {
    return this.#unlisten !== undefined;
  }

  #ended = false;

  readonly #listener: DeleteListener = {
    deleted: (entry, revision) => {
      this.events.push({ entry: entry.toString('latin1'), revision });
      this.onEvent?.();
    },
    ended: () => {
      this.#unlisten = undefined;
      this.#ended = true;
      this.onEvent?.();
    },
  };

  /**
   * True once the watch this feed listened to ended under it (etcd cancelled it): deletes may
   * have gone unheard, so the waiter must listen again (a new watch) and read again.
   */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Listens (if not already), so that every delete after the waiter's next read is heard. If
   * the watch cannot be made, the waiter is left to its poll; throws only when `stop` aborts.
   */
  async listen(): Promise<void> {
    // A watch that ends while it is being joined is joined again, once: the next one is new.
    for (let tries = 0; this.#unlisten === undefined && tries < 2; tries++) {
      this.#ended = false;
      const listening = this.#listenDeletes(this.#folder, this.#listener);
      const unlisten = await raceSignal(listening, this.#stop).catch(() => {
        if (this.#stop.aborted) {
          listening.then(
            (stopListening) => stopListening(),
            () => {},
          );
          throw this.#stop.reason;
        }
        return undefined; // no watch (etcd refused or did not answer in time): wait by polling
      });
      this.events = [];
      if (unlisten === undefined) break;
      if (this.#ended) {
        unlisten();
        continue;
      }
      this.#unlisten = unlisten;
    }
    this.#ended = false; // if still not listening, the waiter polls
  }

  /** Stops listening (a waiter far from the head does not need every delete). */
  unlisten(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
  }
}
