import { createServer, type Server, Socket } from 'node:net';

/**
 * What a {@link FaultProxy} does to the traffic of its connections, switchable at run time:
 * - `pass`: forwards both ways.
 * - `delay`: forwards, holding each chunk `upMs` on its way to the server and `downMs` on its
 *   way back (order is kept).
 * - `blackhole`: forwards nothing either way and drops what it gets; sockets stay open, as
 *   behind a silent partition.
 * - `drop-replies`: requests reach the server, its answers never come back (the request
 *   landed, its outcome is unknown to the client).
 * - `reset`: every open connection is reset now, and new ones are reset on arrival.
 * - `refuse`: the proxy stops listening, so new connections are refused; open ones are reset.
 */
export type FaultMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'delay'; readonly upMs?: number; readonly downMs?: number }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'drop-replies' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'refuse' };

/** Counters of what went through a proxy, for assertions. */
export interface FaultProxyStats {
  /** Connections accepted so far. */
  connections: number;
  /** Bytes forwarded to the server. */
  bytesUp: number;
  /** Bytes forwarded back to clients. */
  bytesDown: number;
  /** Bytes dropped (either way). */
  bytesDropped: number;
}

/** Chunks held back one way, oldest first, each with the time it is due to be written. */
interface Held {
  readonly chunks: { readonly due: number; readonly chunk: Buffer }[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /**
   * Chunks held back each way. They leave strictly in order, from the head of the queue: a
   * timer per chunk would let a later chunk with a shorter delay overtake an earlier one, as
   * Node's timers fire by the loop's cached clock, not by `performance.now()`.
   */
  readonly held: { readonly up: Held; readonly down: Held };
}

/**
 * A user-space TCP proxy on 127.0.0.1 in front of one server, that injects network faults on
 * demand: delay, silent partition, lost replies, resets, refused connections. Needs nothing
 * installed and works on loopback, where `tc netem` is not available.
 * @example
 * ```ts
 * const proxy = await FaultProxy.start(redisPort);
 * const backend = new RedisBackend({ url: `redis://127.0.0.1:${proxy.port}` });
 * proxy.set({ kind: 'drop-replies' }); // the next request lands, its reply never comes
 * ```
 */
export class FaultProxy {
  /** The proxy's own port: connect here instead of to the server. */
  port = 0;
  /** What went through so far. */
  readonly stats: FaultProxyStats = { connections: 0, bytesUp: 0, bytesDown: 0, bytesDropped: 0 };
  readonly #targetPort: number;
  readonly #targetHost: string;
  readonly #pairs = new Set<Pair>();
  #mode: FaultMode = { kind: 'pass' };
  #server: Server | undefined;
  #closed = false;

  private constructor(targetPort: number, targetHost: string) {
    this.#targetPort = targetPort;
    this.#targetHost = targetHost;
  }

  /** Starts a proxy to `targetHost:targetPort` on a free loopback port (or `port`). */
  static async start(targetPort: number, targetHost = '127.0.0.1', port = 0): Promise<FaultProxy> {
    const proxy = new FaultProxy(targetPort, targetHost);
    await proxy.#listen(port);
    return proxy;
  }

  /** The current mode. */
  get mode(): FaultMode {
    return this.#mode;
  }

  /** Number of connections open through the proxy. */
  get openConnections(): number {
    return this.#pairs.size;
  }

  /** Switches the fault; takes effect at once for open and new connections. */
  async set(mode: FaultMode): Promise<void> {
    this.#mode = mode;
    if (mode.kind === 'reset' || mode.kind === 'refuse') this.resetAll();
    if (mode.kind === 'refuse') await this.#stopListening();
    else if (this.#server === undefined && !this.#closed) await this.#listen(this.port);
  }

  /** Resets every open connection (an RST to the client, the server side is closed). */
  resetAll(): void {
    for (const pair of [...this.#pairs]) this.#drop(pair, true);
  }

  /** Stops the proxy and drops every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.resetAll();
    await this.#stopListening();
  }

  #listen(port: number): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    server.unref();
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : port;
        resolve();
      });
    });
  }

  #stopListening(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.stats.connections += 1;
    client.on('error', () => {});
    if (this.#mode.kind === 'reset' || this.#mode.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const server = new Socket();
    server.setNoDelay(true);
    // The proxy is test plumbing: it must never be what keeps a test process running. (A
    // socket whose peer half-closed it can keep its handle after destroy(); unref'd, it cannot
    // hold the process.)
    client.unref();
    server.unref();
    const pair: Pair = {
      client,
      server,
      held: { up: { chunks: [], timer: undefined }, down: { chunks: [], timer: undefined } },
    };
    this.#pairs.add(pair);
    const end = () => this.#drop(pair);
    client.on('error', end);
    server.on('error', end);
    client.on('close', end);
    server.on('close', end);
    // Client bytes that arrive before the server connection is up are written once it is
    // (a net.Socket buffers writes made while connecting).
    server.connect(this.#targetPort, this.#targetHost);
    client.on('data', (chunk: Buffer) => this.#forward(pair, chunk, 'up'));
    server.on('data', (chunk: Buffer) => this.#forward(pair, chunk, 'down'));
  }

  #forward(pair: Pair, chunk: Buffer, direction: 'up' | 'down'): void {
    const mode = this.#mode;
    const dropped =
      mode.kind === 'blackhole' ||
      mode.kind === 'reset' ||
      mode.kind === 'refuse' ||
      (mode.kind === 'drop-replies' && direction === 'down');
    if (dropped) {
      this.stats.bytesDropped += chunk.length;
      return;
    }
    const delay = mode.kind === 'delay' ? ((direction === 'up' ? mode.upMs : mode.downMs) ?? 0) : 0;
    const held = pair.held[direction];
    if (delay <= 0 && held.chunks.length === 0) {
      this.#write(pair, direction, chunk);
      return;
    }
    // A chunk never overtakes one queued before it, even when the delay was shortened since.
    held.chunks.push({ due: performance.now() + delay, chunk });
    this.#drain(pair, direction);
  }

  /** Writes the held chunks that are due, in order, and waits for the next one. */
  #drain(pair: Pair, direction: 'up' | 'down'): void {
    const held = pair.held[direction];
    if (held.timer !== undefined) return;
    const now = performance.now();
    while (held.chunks.length > 0 && (held.chunks[0] as { due: number }).due <= now) {
      this.#write(pair, direction, (held.chunks.shift() as { chunk: Buffer }).chunk);
    }
    const next = held.chunks[0];
    if (next === undefined) return;
    held.timer = setTimeout(
      () => {
        held.timer = undefined;
        this.#drain(pair, direction);
      },
      Math.max(1, next.due - now),
    );
  }

  #write(pair: Pair, direction: 'up' | 'down', chunk: Buffer): void {
    const to = direction === 'up' ? pair.server : pair.client;
    if (to.destroyed) return;
    if (direction === 'up') this.stats.bytesUp += chunk.length;
    else this.stats.bytesDown += chunk.length;
    to.write(chunk);
  }

  #drop(pair: Pair, reset = false): void {
    if (!this.#pairs.delete(pair)) return;
    clearTimeout(pair.held.up.timer);
    clearTimeout(pair.held.down.timer);
    const client = pair.client;
    if (reset && !client.destroyed && !client.readableEnded && !client.writableEnded) {
      client.resetAndDestroy();
    } else {
      // A socket the other side already closed or half-closed cannot be reset (libuv refuses,
      // and Node then never closes its handle, which kept the whole process alive): close it.
      client.destroy();
    }
    pair.server.destroy();
  }
}
