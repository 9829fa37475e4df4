import { LockClosedError } from '@lock/core';

/** Hears a folder's deletes through a shared watch. */
export interface DeleteListener {
  /** An entry was deleted, at `revision` (called in revision order). */
  deleted(entry: Buffer, revision: bigint): void;
  /**
   * The watch ended (etcd cancelled it, say because it compacted past the revision the watch
   * had to resume from after a broken stream): deletes from now on go unheard until the
   * listener listens again, which makes a new watch.
   */
  ended(): void;
}

/** A live watch that can be cancelled. */
export interface LiveWatch {
  /** Registers the delete handler (called for every delete in the folder, in revision order). */
  onDelete(handler: (entry: Buffer, revision: bigint) => void): void;
  /** Registers the handler for the watch's end, when etcd cancels it (not when we do). */
  onEnd(handler: () => void): void;
  cancel(): void;
}

interface Shared {
  readonly listeners: Set<DeleteListener>;
  readonly live: Promise<LiveWatch>;
  /** Whether `live` has resolved (the watch hears deletes now). */
  ready: boolean;
  /** Pending cancel after the last listener left (see {@link KEEP_IDLE_MS}). */
  idle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * How long a watch outlives its last listener. Under contention a backend's waiter takes the
 * lock, releases it and queues again within milliseconds; keeping the watch meanwhile saves a
 * watch cancel and create (two gRPC messages and their CPU) per turn.
 */
const KEEP_IDLE_MS = 1_000;

/**
 * One delete watch per lock folder, shared by every waiter of this backend on that lock and
 * kept while any of them waits.
 *
 * The watch starts at the current revision, never at an older one: etcd serves a watch that
 * starts in the past from a catch-up loop that runs every 100 ms, which showed up as 100 ms
 * stalls in handovers. So a waiter listens first and reads after, and ignores deletes at or
 * before the revision of its read (its read already reflects them).
 *
 * A watch that etcd ends is retired at once (the next listener makes a new one) and every
 * listener is told, so that none of them waits on a watch that no longer hears anything.
 */
export class FolderWatches {
  readonly #open: (folder: Buffer) => Promise<LiveWatch>;
  readonly #byFolder = new Map<string, Shared>();
  #closed = false;

  /** @param open creates a watch of `folder`'s deletes from the current revision, once live. */
  constructor(open: (folder: Buffer) => Promise<LiveWatch>) {
    this.#open = open;
  }

  /**
   * Calls `listener` for every entry of `folder` deleted from now on; resolves with a canceller
   * once the watch is live (rejects if it cannot be made, and then holds nothing).
   */
  async listen(folder: Buffer, listener: DeleteListener): Promise<() => void> {
    if (this.#closed) throw new LockClosedError('etcd backend');
    const name = folder.toString('latin1');
    let shared = this.#byFolder.get(name);
    if (shared === undefined) {
      const listeners = new Set<DeleteListener>();
      const live = this.#open(folder).then((watch) => {
        watch.onDelete((entry, revision) => {
          for (const each of listeners) each.deleted(entry, revision);
        });
        watch.onEnd(() => {
          if (this.#byFolder.get(name) === made) this.#byFolder.delete(name);
          clearTimeout(made.idle);
          const told = [...listeners];
          listeners.clear();
          for (const each of told) each.ended();
        });
        made.ready = true;
        return watch;
      });
      const made: Shared = { listeners, live, ready: false, idle: undefined };
      shared = made;
      this.#byFolder.set(name, shared);
    }
    const current = shared;
    clearTimeout(current.idle);
    current.idle = undefined;
    current.listeners.add(listener);
    const retire = () => {
      if (this.#byFolder.get(name) === current) this.#byFolder.delete(name);
      current.live.then(
        (watch) => watch.cancel(),
        () => {},
      );
    };
    try {
      await current.live;
    } catch (error) {
      if (current.listeners.delete(listener) && current.listeners.size === 0) retire();
      throw error;
    }
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      current.idle = setTimeout(retire, KEEP_IDLE_MS);
      current.idle.unref?.();
    };
  }

  /**
   * Whether a watch of `folder` hears deletes now (in use, or idle and not yet retired), so
   * that {@link listen} makes no request and resolves at once.
   */
  isLive(folder: Buffer): boolean {
    return this.#byFolder.get(folder.toString('latin1'))?.ready === true;
  }

  /** Cancels every watch, idle or not (the backend is closing). */
  close(): void {
    this.#closed = true;
    for (const shared of this.#byFolder.values()) {
      clearTimeout(shared.idle);
      shared.live.then(
        (watch) => watch.cancel(),
        () => {},
      );
    }
    this.#byFolder.clear();
  }
}
