import type { Etcd3, Watcher } from 'etcd3';
import { withDeadline } from './call.js';
import type { LiveWatch } from './folder-watches.js';

/** Delay before a watch etcd cancelled is made again, or the stream's anchor re-made. */
const REMAKE_MS = 1_000;

/**
 * The delete watches a backend opens, all on etcd3's one shared watch stream, each of which
 * copes with etcd cancelling it.
 *
 * When the stream breaks (a member restarts, the network drops), etcd3 re-creates each watch
 * from the revision after the last one it saw. If etcd compacted its history past that
 * revision meanwhile, it cancels the watch (etcd3 emits `error` and forgets it): deletes from
 * then on are never heard. Every watch here therefore treats `error` as its end and tells its
 * owner, who reads again and watches anew from the current revision.
 *
 * A watch etcd ended is never cancelled afterwards: etcd3 would send a cancel request for its
 * old ID, etcd would confirm it, and etcd3, which has forgotten the watch, would throw from its
 * stream handler ("Failed to find watcher for IWatchResponse"): an uncaught exception in the
 * user's process.
 */
export class DeleteWatches {
  readonly #client: Etcd3;
  readonly #anchorKey: string;
  readonly #timeoutMs: number;
  /** Cancels the stream's anchor watch (see {@link anchor}). */
  #anchor: (() => void) | undefined;
  #closed = false;

  /**
   * @param anchorKey a key that never changes, watched for the backend's lifetime (see
   * {@link anchor}).
   * @param timeoutMs longest wait for etcd to confirm a new folder watch.
   */
  constructor(client: Etcd3, anchorKey: string, timeoutMs: number) {
    this.#client = client;
    this.#anchorKey = anchorKey;
    this.#timeoutMs = timeoutMs;
  }

  /** A watch of `folder`'s deletes from the current revision, once etcd confirmed it. */
  async folder(folder: Buffer): Promise<LiveWatch> {
    this.anchor();
    const creating = this.#client.watch().prefix(folder).only('delete').create();
    let watcher: Watcher;
    try {
      watcher = await withDeadline('watch', this.#timeoutMs, () => creating);
    } catch (error) {
      creating.then(
        (late) => late.cancel().catch(() => {}),
        () => {},
      );
      throw error;
    }
    const cancel = cancelUnlessEnded(watcher);
    return {
      onDelete: (handler) => {
        watcher.on('delete', (kv) => handler(kv.key, BigInt(kv.mod_revision)));
      },
      onEnd: (handler) => {
        watcher.on('error', () => handler());
      },
      cancel,
    };
  }

  /**
   * Calls `onWake` once `entry` is deleted at or after `fromRevision`, or once the watch ended
   * without seeing it (cancelled by etcd: the caller reads again); returns a canceller.
   */
  entry(entry: Buffer, fromRevision: string, onWake: () => void): () => void {
    this.anchor();
    const watcher = this.#client
      .watch()
      .key(entry)
      .only('delete')
      .startRevision(fromRevision)
      .watcher();
    watcher.on('delete', () => onWake());
    watcher.on('error', () => onWake());
    return cancelUnlessEnded(watcher);
  }

  /**
   * Calls `onChange` on every delete in `folder`, and whenever deletes may have gone unheard
   * (the stream reconnected, or etcd cancelled the watch and it was made again from the current
   * revision); returns a canceller.
   */
  changes(folder: Buffer, onChange: () => void): () => void {
    this.anchor();
    let cancelled = false;
    let cancelWatcher: (() => void) | undefined;
    let remake: ReturnType<typeof setTimeout> | undefined;
    const make = () => {
      if (cancelled || this.#closed) return;
      const made = this.#client.watch().prefix(folder).only('delete').watcher();
      const cancelMade = cancelUnlessEnded(made);
      cancelWatcher = cancelMade;
      made.on('delete', () => onChange());
      made.on('connected', () => onChange());
      made.on('error', () => {
        if (cancelWatcher !== cancelMade) return;
        cancelWatcher = undefined;
        onChange();
        remake = setTimeout(make, REMAKE_MS);
        remake.unref?.();
      });
    };
    make();
    return () => {
      cancelled = true;
      clearTimeout(remake);
      cancelWatcher?.();
    };
  }

  /**
   * Keeps one watcher on a key that never changes for the backend's lifetime. etcd3's watch
   * manager tears its stream down when its last watcher leaves, and a watcher attached during
   * that teardown waits out a reconnect delay; queue waiters come and go constantly, so without
   * an anchor a handover could stall for that delay. Made again if etcd cancels it.
   */
  anchor(): void {
    if (this.#anchor !== undefined || this.#closed) return;
    const made = this.#client.watch().key(this.#anchorKey).watcher();
    const cancel = cancelUnlessEnded(made);
    this.#anchor = cancel;
    made.on('error', () => {
      setTimeout(() => {
        if (this.#anchor === cancel) this.#anchor = undefined;
        this.anchor();
      }, REMAKE_MS).unref?.();
    });
  }

  /** Cancels the anchor; watches made afterwards are not re-made. */
  close(): void {
    this.#closed = true;
    this.#anchor?.();
    this.#anchor = undefined;
  }
}

/**
 * A canceller for `watcher` that does nothing once etcd ended the watch (see
 * {@link DeleteWatches}). It also gives `error` a listener, without which an emitted `error`
 * would throw.
 */
function cancelUnlessEnded(watcher: Watcher): () => void {
  let ended = false;
  watcher.on('error', () => {
    ended = true;
  });
  return () => {
    if (!ended) watcher.cancel().catch(() => {});
  };
}
