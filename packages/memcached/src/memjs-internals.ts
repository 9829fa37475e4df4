/**
 * Everything this package reads or changes inside memjs beyond its documented API, in one place
 * so that a driver upgrade is checked here: the socket memjs keeps per server (`_socket`,
 * `connected`, `responseBuffer`), its failover field `wakeupAt`, and `perform` with an explicit
 * attempt count. These are memjs 1.3.2 internals (stable since 2014, typed in part by
 * `@types/memjs`).
 *
 * Why: memjs offers no CAS API, resends a failed request on whatever connection it opens next,
 * and does not say which connection a reply came on. A CAS is only meaningful to the server
 * process that issued it, and a restarted memcached numbers CAS values from 1 again, so this
 * package must know which connection each request went out on and each reply came back on, and
 * must never let memjs resend a CAS-guarded write.
 * @module
 */
import type { Client } from 'memjs';

/** One TCP connection memjs opened to a server, as an opaque identity. */
export type Connection = object;

/** The socket fields memjs keeps on a server. */
interface SocketInternals {
  cork?: () => void;
  uncork?: () => void;
  destroy?: () => void;
}

/** A memjs `Server` with the fields memjs keeps private. */
export interface ServerInternals {
  _socket?: SocketInternals;
  /** True once the socket is connected (and authenticated): requests are then written at once. */
  connected?: boolean;
  /** Bytes read and not yet parsed, shared by every socket this server ever had. */
  responseBuffer?: Buffer;
  /** Failover: the server counts as down until then (ms since the epoch). */
  wakeupAt?: number;
  /** Fails every request in flight on the server and destroys its socket. */
  error?: (error: unknown) => void;
}

/** The server memjs sends `routingKey`'s requests to, or `undefined` when none is available. */
export function serverFor(client: Client, routingKey: string): ServerInternals | undefined {
  return (client.server(routingKey) as unknown as ServerInternals | null | undefined) ?? undefined;
}

/** The connection `server` uses now (connected or still connecting), if it has one. */
export function currentConnection(server: ServerInternals | undefined): Connection | undefined {
  return server?._socket;
}

/**
 * True when a request sent to `server` now is written at once on `connection`: it is the
 * server's socket and is connected (memjs queues requests on a connecting socket, and opens a
 * new one when it has none).
 */
export function writesTo(server: ServerInternals | undefined, connection: Connection): boolean {
  return server !== undefined && server._socket === connection && server.connected === true;
}

/**
 * Sends `request` once, with no retry by memjs: `perform` counts attempts in its last argument
 * (1 = no resend; memjs reads 0 as "use the client's default"). A resent request would leave on
 * a new connection, possibly to a restarted server; this package decides itself what may be
 * sent again (see `retry.ts`).
 */
export function performOnce(
  client: Client,
  routingKey: string,
  request: Buffer,
  seq: number,
  callback: (error: unknown, response?: unknown) => void,
): void {
  client.perform(routingKey, request, seq, callback as (error: Error | null) => void, 1);
}

/**
 * Tidies up after memjs gave up on `connection` (a timeout, a reset, a failed login): memjs only
 * half-closes a socket that timed out, so a late reply could still be read from it and matched
 * to a request by its number, and it keeps that socket's unparsed bytes in a buffer shared with
 * the next socket, where a partial reply would misframe the next one's replies. Destroys the
 * socket and, when no new one exists yet, empties that buffer.
 */
export function abandon(server: ServerInternals | undefined, connection: Connection | undefined) {
  if (server === undefined || connection === undefined || server._socket === connection) return;
  (connection as SocketInternals).destroy?.();
  if (server._socket === undefined) server.responseBuffer = Buffer.alloc(0);
}

/**
 * Drops `server`'s connection because its byte stream cannot be trusted (a reply that does not
 * match its request): every request in flight on it fails, and the next one opens a new socket.
 */
export function dropConnection(server: ServerInternals | undefined, reason: Error): void {
  server?.error?.(reason);
  if (server !== undefined && server._socket === undefined) {
    server.responseBuffer = Buffer.alloc(0);
  }
}

/** How this package resends requests that may be sent again: memjs's own settings. */
export interface RetrySettings {
  /** Attempts in all (memjs `retries`). */
  readonly attempts: number;
  /** Pause before each further attempt, in ms (memjs `retry_delay`, in seconds). */
  readonly delayMs: number;
}

/** The retry settings of `client` (memjs defaults: 2 attempts, 0.2 s apart). */
export function retrySettingsOf(client: Client): RetrySettings {
  const options = client.options as { retries?: number; retry_delay?: number };
  return {
    attempts: Math.max(1, options.retries || 2),
    delayMs: (options.retry_delay ?? 0.2) * 1000,
  };
}

/** Every socket memjs opened for a client's servers and that has not closed yet. */
const socketsOf = new WeakMap<Client, Set<SocketInternals & NodeJS.EventEmitter>>();

/**
 * Records every socket memjs opens for `client`'s servers, so that {@link retireClient} can close
 * them all. memjs forgets sockets that are still open: its `close` handler of an old socket sets
 * the server's `_socket` to `undefined` whichever socket is current by then, and its request
 * timeout handler does the same for the socket whose timer fired; `Client.close()` then only
 * ends the socket it still knows, and the forgotten one keeps the process alive (the chaos
 * suite saw it after requests timed out while a worker was cut off). This wraps each memjs
 * `Server`'s `sock` (which every write goes through, and which opens a socket when the server
 * has none) to note the server's socket after each call: one `Set` lookup per request.
 */
export function trackSockets(client: Client): void {
  const open = new Set<SocketInternals & NodeJS.EventEmitter>();
  socketsOf.set(client, open);
  for (const server of client.servers as unknown as {
    sock: (...args: unknown[]) => unknown;
    _socket?: SocketInternals & NodeJS.EventEmitter;
  }[]) {
    const sock = server.sock;
    server.sock = function (this: typeof server, ...args: unknown[]) {
      const result = sock.apply(this, args);
      const socket = this._socket;
      if (socket !== undefined && !open.has(socket)) {
        open.add(socket);
        socket.once('close', () => open.delete(socket));
      }
      return result;
    };
  }
}

/**
 * Closes a client this package created, for good: marks every server as asleep forever (memjs's
 * failover field `wakeupAt`), so that nothing can open a new connection after the close, then
 * ends the sockets memjs knows and destroys every one it opened (see {@link trackSockets}),
 * those it forgot included: an end alone waits for the server's end, which a partition
 * withholds. Every call has finished by then, so nothing is waiting on them.
 */
export function retireClient(client: Client): void {
  for (const server of client.servers) {
    (server as unknown as ServerInternals).wakeupAt = Number.POSITIVE_INFINITY;
  }
  client.close();
  for (const socket of socketsOf.get(client) ?? []) socket.destroy?.();
}

/** Sockets corked in this tick, uncorked together when the tick's code has run. */
const corkedThisTick = new Set<SocketInternals>();

function uncorkAll(): void {
  for (const socket of corkedThisTick) socket.uncork?.();
  corkedThisTick.clear();
}

/**
 * Corks `connection` until the end of the current tick, so that every request sent in this tick
 * (all 50 of 50 locks in flight, or an ADD and its fence INCR) leaves in one write, one system
 * call, instead of one each: memjs writes each request straight to the socket, and those writes
 * were half the client's CPU with many locks in flight. The uncork runs on `process.nextTick`,
 * before any I/O, so no request waits for a later tick.
 */
export function corkUntilEndOfTick(connection: Connection): void {
  const socket = connection as SocketInternals;
  if (socket.cork === undefined || corkedThisTick.has(socket)) return;
  socket.cork();
  if (corkedThisTick.size === 0) process.nextTick(uncorkAll);
  corkedThisTick.add(socket);
}

/** A memjs `Server` seen from outside: where it is, and how to send it one request. */
interface ServerForPing {
  readonly host: string;
  readonly port: number;
  onResponse(seq: number, callback: (response: unknown) => void): void;
  onError(seq: number, callback: (error: unknown) => void): void;
  write(request: Buffer): void;
}

/**
 * Sends one VERSION request to every server of `client` (memjs connects, and authenticates with
 * SASL, first) and resolves with the servers that did not answer in `timeoutMs`, each with its
 * error. memjs has no per-server request API (`stats` is one, with its own retries), so this
 * writes on each `Server` the way memjs's own `quit` does.
 */
export function pingEachServer(
  client: Client,
  encode: (seq: number) => Buffer,
  timeoutMs: number,
): Promise<{ readonly address: string; readonly error: unknown }[]> {
  const servers = client.servers as unknown as ServerForPing[];
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<{ address: string; error: unknown } | undefined>((resolve) => {
          const address = `${server.host}:${server.port}`;
          const timer = setTimeout(
            () => resolve({ address, error: new Error(`no answer within ${timeoutMs} ms`) }),
            timeoutMs,
          );
          const done = (error?: unknown) => {
            clearTimeout(timer);
            resolve(error === undefined ? undefined : { address, error });
          };
          client.incrSeq();
          const seq = client.seq;
          server.onResponse(seq, () => done());
          server.onError(seq, (error) => done(error ?? new Error('connection failed')));
          try {
            server.write(encode(seq));
          } catch (error) {
            done(error);
          }
        }),
    ),
  ).then((results) => results.filter((result) => result !== undefined));
}
