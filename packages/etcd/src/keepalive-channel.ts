import type { IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';

type Stream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

interface Pending {
  readonly resolve: (ttlSeconds: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One long-lived `LeaseKeepAlive` stream shared by every lease of a backend, instead of a new
 * stream per renewal (a renewal on an open stream costs a quarter of one that opens its own).
 * etcd answers a stream's requests in order, so replies are matched to requests by lease ID,
 * first in first out. Any failure or timed-out renewal tears the whole stream down and fails
 * everything pending on it: a reply must never be credited to a later request, or a lock
 * would be counted valid from a renewal that was sent after the one etcd confirmed.
 *
 * A stream torn down that way is half-closed and ends when etcd's end of it comes back, which,
 * after lost replies, may be never; `close()` cancels every stream not yet ended, or its socket
 * would keep the process alive (grpc-js's `Channel.close()` leaves calls under way running).
 */
export class KeepAliveChannel {
  readonly #open: () => Promise<Stream>;
  #stream: Promise<Stream> | undefined;
  #pending = new Map<string, Pending[]>();
  /** Every stream opened and not yet ended, the current one and those half-closed. */
  readonly #unended = new Set<Stream>();
  #closedWith: { readonly error: unknown } | undefined;

  /** @param open opens a new keepalive stream (the driver's `leaseClient.leaseKeepAlive()`). */
  constructor(open: () => Promise<Stream>) {
    this.#open = open;
  }

  /** Renews lease `id` once; resolves its new TTL in seconds (≤ 0 when the lease is gone). */
  async keepAlive(id: string): Promise<number> {
    const stream = await this.#connect();
    return new Promise<number>((resolve, reject) => {
      const queue = this.#pending.get(id) ?? [];
      queue.push({ resolve, reject });
      this.#pending.set(id, queue);
      try {
        stream.write({ ID: id });
      } catch (error) {
        this.reset(error);
      }
    });
  }

  /** Fails every pending renewal with `error` and drops the stream; the next call reopens it. */
  reset(error: unknown): void {
    const stream = this.#stream;
    const pending = this.#pending;
    this.#stream = undefined;
    this.#pending = new Map();
    for (const queue of pending.values()) for (const entry of queue) entry.reject(error);
    stream?.then(
      (s) => {
        // Half-close rather than cancel: the driver treats a cancelled stream's error as a
        // failed member and closes every channel to it.
        try {
          s.end();
        } catch {
          // Already closed.
        }
      },
      () => {},
    );
  }

  /** Fails every pending renewal with `error`, cancels every stream not yet ended, opens no more. */
  close(error: unknown): void {
    this.#closedWith = { error };
    this.reset(error);
    for (const stream of this.#unended) {
      try {
        stream.cancel();
      } catch {
        // Already closed.
      }
    }
    this.#unended.clear();
  }

  #connect(): Promise<Stream> {
    if (this.#closedWith !== undefined) return Promise.reject(this.#closedWith.error);
    if (this.#stream !== undefined) return this.#stream;
    const opening = this.#open().then((stream) => {
      if (this.#closedWith !== undefined) {
        stream.on('error', () => {}); // the cancel's own error
        stream.cancel();
        throw this.#closedWith.error;
      }
      this.#unended.add(stream);
      stream.on('status', () => this.#unended.delete(stream));
      const fail = (error: unknown) => {
        this.#unended.delete(stream);
        if (this.#stream === opening) this.reset(error);
      };
      stream.on('data', (reply) => {
        if (this.#stream !== opening) return;
        const queue = this.#pending.get(reply.ID);
        const entry = queue?.shift();
        if (queue !== undefined && queue.length === 0) this.#pending.delete(reply.ID);
        entry?.resolve(Number(reply.TTL));
      });
      stream.on('error', fail);
      stream.on('end', () => fail(new Error('lease keepalive stream ended')));
      return stream;
    });
    this.#stream = opening;
    opening.catch(() => {
      if (this.#stream === opening) this.#stream = undefined;
    });
    return opening;
  }
}
