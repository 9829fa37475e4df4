import { ClientRuntimeError, type Etcd3 } from 'etcd3';

/** The parts of etcd3 1.1.2's (private) `WatchManager` the guard wraps. */
interface WatchManagerInternals {
  handleResponse(res: unknown): void;
  handleCreatedResponse(res: unknown): void;
  handleError(error: Error): void;
}

const guarded = new WeakSet<object>();

/**
 * Keeps etcd3's watch stream from throwing into the void when a reply does not fit what the
 * driver expects, and rebuilds the stream instead.
 *
 * etcd3 1.1.2 throws from its watch stream's `data` handler when a reply names a watch it does
 * not know (`lib/watch.js`, `WatchManager.handleResponse`: "Failed to find watcher for
 * IWatchResponse"; and, in the same way, `handleCreatedResponse` and `AttachQueue.handleCreate`
 * for a creation reply with no watch waiting). grpc-js delivers messages from a promise chain,
 * so the throw becomes an unhandled rejection in the user's process, which the chaos suite saw
 * after lost replies and leader changes. Such a reply means the stream and the driver disagree
 * about which watches exist (a lost creation reply leaves a watch that etcd runs and the driver
 * cannot name, and every later watch queued behind it is never attached), so the guard treats
 * it as a broken stream (`handleError`): etcd3 cancels it, tells each watcher it disconnected,
 * and re-creates every watch from the revision after the last one it saw.
 *
 * This reaches into etcd3's private `watchManager` (etcd3 is pinned to 1.1.2); if it is not
 * there, nothing is wrapped.
 */
export function guardWatchStream(client: Etcd3): void {
  const manager = (client as unknown as { watchManager?: WatchManagerInternals }).watchManager;
  if (manager === undefined || guarded.has(manager)) return;
  if (typeof manager.handleResponse !== 'function' || typeof manager.handleError !== 'function') {
    return;
  }
  guarded.add(manager);
  for (const name of ['handleResponse', 'handleCreatedResponse'] as const) {
    const original = manager[name].bind(manager);
    manager[name] = (res: unknown) => {
      try {
        original(res);
      } catch (error) {
        if (!(error instanceof ClientRuntimeError)) throw error;
        manager.handleError(error);
      }
    };
  }
}
