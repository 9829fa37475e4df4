/**
 * Raw memcached binary-protocol requests sent through memjs's own connection handling.
 *
 * Why this module exists: memjs 1.3.2 has no CAS API (its open PR #67). Its `get` drops the
 * CAS of the reply, its `add`/`set` drop the CAS of theirs, and `set`/`delete` cannot send one.
 * Its `increment` also misreads the 64-bit counter (`readUInt32BE(0) << 8`) and cannot set a
 * 64-bit initial value. A lock needs all of these, so this module builds the requests itself
 * (`encodeRequest`, with the 8-byte CAS in header bytes 16–23) and sends them with
 * `client.perform`, which keeps memjs's server choice, SASL, timeouts and retries, and corks
 * memjs's socket for a tick. These are memjs internals (stable since 2014, typed by
 * `@types/memjs`); this is the only file that touches them, so a driver upgrade is checked here.
 *
 * Every function resolves with the raw status; callers decide what a status means.
 * @module
 */
import type { Client } from 'memjs';
import type { Deadlines } from './deadline.js';
import { encodeRequest } from './request-encoder.js';

/** Where requests go: the memjs client, and the deadlines every request gets. */
export interface Target {
  readonly client: Client;
  readonly deadlines: Deadlines;
}

/** Binary-protocol opcodes used here. */
const OP = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04, increment: 0x05 } as const;

/** Binary-protocol response statuses that are results rather than failures. */
export const STATUS = {
  ok: 0x00,
  /** The key does not exist. */
  notFound: 0x01,
  /** ADD: the key exists. SET/DELETE with a CAS: the item changed (CAS mismatch). */
  exists: 0x02,
} as const;

/** The parts of a reply this package reads. */
export interface RawReply {
  /** Response status (see {@link STATUS}). */
  readonly status: number;
  /** The item's CAS after the operation (8 bytes), all zero when the server sent none. */
  readonly cas: Buffer;
  /** Extras (GET: the 4-byte flags). */
  readonly extras: Buffer;
  /** The value (GET) or counter (INCREMENT). */
  readonly value: Buffer;
  /**
   * The connection the reply came on, as an opaque identity. A CAS is only trusted on the
   * same connection: a server restart drops the connection and restarts CAS numbering.
   */
  readonly connection: object | undefined;
}

/** A memjs `Server` with the socket field that memjs keeps private. */
interface ServerInternals {
  _socket?: { cork?: () => void; uncork?: () => void };
}

/**
 * Closes a client this package created, for good: marks every server as asleep forever (memjs's
 * failover field `wakeupAt`), so a retry memjs has already scheduled finds no server instead of
 * opening a new connection after the close, then ends the sockets.
 */
export function retireClient(client: Client): void {
  for (const server of client.servers) {
    (server as unknown as { wakeupAt?: number }).wakeupAt = Number.POSITIVE_INFINITY;
  }
  client.close();
}

/** The socket memjs uses now for `routingKey`'s server, if it has one open. */
function socketOf(client: Client, routingKey: string): ServerInternals['_socket'] {
  const server = client.server(routingKey) as unknown as ServerInternals | undefined | null;
  return server?._socket;
}

/** Identity of the socket memjs uses now for `routingKey`'s server, if it has one open. */
export function currentConnection(client: Client, routingKey: string): object | undefined {
  return socketOf(client, routingKey);
}

/** Sockets corked in this tick, uncorked together when the tick's code has run. */
const corkedThisTick = new Set<{ uncork?: () => void }>();

function uncorkAll(): void {
  for (const socket of corkedThisTick) socket.uncork?.();
  corkedThisTick.clear();
}

/**
 * Corks the socket of `routingKey`'s server until the end of the current tick, so that every
 * request sent in this tick (all 50 of 50 locks in flight, or an ADD and its fence INCR) leaves
 * in one write, one system call, instead of one each: memjs writes each request straight to the
 * socket, and those writes were half the client's CPU with many locks in flight. The uncork
 * runs on `process.nextTick`, before any I/O, so no request waits for a later tick. When the
 * socket is still connecting, memjs queues the requests in order and this is a no-op.
 */
function corkUntilEndOfTick(client: Client, routingKey: string): void {
  const socket = socketOf(client, routingKey);
  if (socket?.cork === undefined || corkedThisTick.has(socket)) return;
  socket.cork();
  if (corkedThisTick.size === 0) process.nextTick(uncorkAll);
  corkedThisTick.add(socket);
}

/**
 * Sends one request to the server that owns `routingKey` and resolves with its reply.
 * Rejects with whatever memjs reports (an `Error`, or a bare string on SASL failure), or when
 * the request outlives its deadline.
 */
export function send(
  target: Target,
  routingKey: string,
  opcode: number,
  key: string,
  extras: Buffer,
  value: string | Buffer,
  cas?: Buffer,
): Promise<RawReply> {
  const { client, deadlines } = target;
  return new Promise<RawReply>((resolve, reject) => {
    const pending = deadlines.watch(reject);
    try {
      client.incrSeq();
      const seq = client.seq;
      const request = encodeRequest(opcode, key, extras, value, seq, cas);
      corkUntilEndOfTick(client, routingKey);
      client.perform(routingKey, request, seq, (error: unknown, response?: unknown) => {
        deadlines.unwatch(pending);
        if (error !== null && error !== undefined) {
          reject(error);
          return;
        }
        const reply = response as {
          header: { status: number; cas: Buffer };
          extras: Buffer;
          val: Buffer;
        };
        resolve({
          status: reply.header.status,
          // Copied: the header is a view into memjs's read buffer.
          cas: Buffer.from(reply.header.cas),
          extras: reply.extras,
          value: reply.val,
          connection: currentConnection(client, routingKey),
        });
      });
    } catch (error) {
      deadlines.unwatch(pending);
      reject(error);
    }
  });
}

/** Scratch extras: `makeRequestBuffer` copies them at once, so one buffer each serves all calls. */
const STORE_EXTRAS = Buffer.alloc(8);
const INCREMENT_EXTRAS = Buffer.alloc(20);

/** Flags (4 bytes) + expiration in seconds (4 bytes): the extras of ADD and SET. */
function storeExtras(flags: number, expirySeconds: number): Buffer {
  STORE_EXTRAS.writeUInt32BE(flags >>> 0, 0);
  STORE_EXTRAS.writeUInt32BE(expirySeconds, 4);
  return STORE_EXTRAS;
}

const NO_EXTRAS = Buffer.alloc(0);

/** ADD: store `value` only if `key` is absent. Status `ok` or `exists`; the reply carries the new CAS. */
export function addItem(
  target: Target,
  key: string,
  value: string,
  flags: number,
  expirySeconds: number,
): Promise<RawReply> {
  return send(target, key, OP.add, key, storeExtras(flags, expirySeconds), value);
}

/** GET: value, flags (in `extras`) and CAS. Status `ok` or `notFound`. */
export function getItem(target: Target, key: string): Promise<RawReply> {
  return send(target, key, OP.get, key, NO_EXTRAS, NO_EXTRAS);
}

/** SET guarded by `cas`: status `ok` (reply has the new CAS), `notFound`, or `exists` (changed). */
export function casSetItem(
  target: Target,
  key: string,
  value: string,
  flags: number,
  expirySeconds: number,
  cas: Buffer,
): Promise<RawReply> {
  return send(target, key, OP.set, key, storeExtras(flags, expirySeconds), value, cas);
}

/** DELETE guarded by `cas`: status `ok`, `notFound`, or `exists` (changed). */
export function casDeleteItem(target: Target, key: string, cas: Buffer): Promise<RawReply> {
  return send(target, key, OP.delete, key, NO_EXTRAS, NO_EXTRAS, cas);
}

/**
 * INCREMENT `counterKey` by 1, creating it at `initial` with no expiry when missing (the server
 * then returns `initial` itself). Sent to the server of `routingKey`, so that the counter lives
 * next to the lock it counts and requests on one connection are applied in order.
 * Resolves with the new value; rejects on any status but `ok`.
 */
export async function incrementCounter(
  target: Target,
  routingKey: string,
  counterKey: string,
  initial: bigint,
): Promise<number> {
  const extras = INCREMENT_EXTRAS;
  extras.writeBigUInt64BE(1n, 0);
  extras.writeBigUInt64BE(initial, 8);
  extras.writeUInt32BE(0, 16); // 0 = create when missing, never expire
  const reply = await send(target, routingKey, OP.increment, counterKey, extras, NO_EXTRAS);
  if (reply.status !== STATUS.ok) throw new MemcachedStatusError('increment', reply.status);
  return Number(reply.value.readBigUInt64BE(0));
}

/** Names of the statuses memcached can answer with, for messages. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  3: 'value too large',
  4: 'invalid arguments',
  5: 'item not stored',
  6: 'incr/decr on a non-numeric value',
  8: 'authentication error',
  32: 'authentication error',
  129: 'unknown command',
  130: 'out of memory',
  131: 'not supported',
  132: 'internal error',
  133: 'busy',
  134: 'temporary failure',
};

/** A reply status that is neither a result nor expected: becomes the `cause` of a BackendError. */
export class MemcachedStatusError extends Error {
  /** The binary-protocol status. */
  readonly status: number;
  constructor(operation: string, status: number) {
    super(
      `memcached answered ${operation} with status 0x${status.toString(16).padStart(2, '0')} (${
        STATUS_NAMES[status] ?? 'unknown status'
      })`,
    );
    this.name = 'MemcachedStatusError';
    this.status = status;
  }
}
