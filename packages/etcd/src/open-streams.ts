import { InterceptingCall, type Interceptor, ListenerBuilder, status } from '@grpc/grpc-js';

/**
 * The gRPC streams a backend's client has open (its lease keepalive stream, etcd3's watch
 * stream, and any it half-closed that etcd has not ended yet), so that `close()` can cancel
 * them.
 *
 * grpc-js's `Channel.close()` (what etcd3's `close()` calls) lets calls already under way run
 * on (`internal-channel.js`, `close()`: it fails only calls still waiting for a connection),
 * and a stream has no deadline. After lost replies, the keepalive stream we half-closed never
 * gets etcd's end, and etcd3's watch stream waits for the answer to its cancel request, so the
 * HTTP/2 session keeps a referenced socket and the user's process never exits. Unary calls
 * carry a deadline and end by themselves.
 */
export class OpenStreams {
  readonly #open = new Set<InterceptingCall>();

  /** The interceptor that records each stream of the client (give it to stream calls only). */
  readonly interceptor: Interceptor = (options, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        this.#open.add(call);
        const untrack = new ListenerBuilder()
          .withOnReceiveStatus((callStatus, nextStatus) => {
            this.#open.delete(call);
            nextStatus(callStatus);
          })
          .build();
        next(metadata, untrack);
      },
    });
    return call;
  };

  /** How many streams are open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Cancels every open stream (the backend is closing). */
  cancelAll(): void {
    const open = [...this.#open];
    this.#open.clear();
    for (const call of open) call.cancelWithStatus(status.CANCELLED, 'etcd backend closed');
  }
}
