/**
 * Raw memcached binary-protocol requests sent through memjs's own connection handling.
 *
 * Why this module exists: memjs 1.3.2 has no CAS API (its open PR #67). Its `get` drops the
 * CAS of the reply, its `add`/`set` drop the CAS of theirs, and `set`/`delete` cannot send one.
 * Its `increment` also misreads the 64-bit counter (`readUInt32BE(0) << 8`) and cannot set a
 * 64-bit initial value. A lock needs all of these, so this module builds the requests itself
 * (`encodeRequest`, with the 8-byte CAS in header bytes 16–23) and sends each one once with
 * `client.perform`, which keeps memjs's server choice, SASL and per-request timeout. What it
 * needs of memjs's internals is in `memjs-internals.ts`.
 *
 * The connection rule: a CAS is only meaningful to the server process that issued it (a
 * restarted memcached numbers CAS values from 1 again), so every reply says which connection it
 * came on, a CAS travels with that connection ({@link BoundCas}), and a CAS-guarded write goes
 * out only on that same connection, or not at all ({@link NOT_SENT}).
 *
 * Every function resolves with the raw status; callers decide what a status means.
 * @module
 */
import type { Client } from 'memjs';
import type { Deadlines } from './deadline.js';
import { ConnectionFailure } from './errors.js';
import {
  abandon,
  type Connection,
  corkUntilEndOfTick,
  currentConnection,
  dropConnection,
  performOnce,
  type ServerInternals,
  serverFor,
  writesTo,
} from './memjs-internals.js';
import { encodeRequest } from './request-encoder.js';

/** Where requests go: the memjs client, and the deadlines every request gets. */
export interface Target {
  readonly client: Client;
  readonly deadlines: Deadlines;
}

/** Binary-protocol opcodes used here. */
const OP = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04, increment: 0x05 } as const;

/** Magic byte of every binary-protocol response. */
const RESPONSE_MAGIC = 0x81;

/** Binary-protocol response statuses that are results rather than failures. */
export const STATUS = {
  ok: 0x00,
  /** The key does not exist. */
  notFound: 0x01,
  /** ADD: the key exists. SET/DELETE with a CAS: the item changed (CAS mismatch). */
  exists: 0x02,
  /** INCREMENT creating a missing counter: another client created it first. */
  notStored: 0x05,
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
  /** The connection the request went out and the reply came back on. */
  readonly connection: Connection;
}

/** A CAS, and the connection to the server process that issued it. */
export interface BoundCas {
  readonly value: Buffer;
  readonly connection: Connection;
}

/** The CAS of `reply`, tied to the connection it came on. */
export function boundCas(reply: RawReply): BoundCas {
  return { value: reply.cas, connection: reply.connection };
}

/**
 * What a CAS-guarded write resolves with when it was not sent at all, because the connection
 * its CAS came on is gone or is no longer the one memjs would write on. Safe to read again.
 */
export const NOT_SENT: unique symbol = Symbol('not sent: the CAS belongs to another connection');

/** One request: where it goes (the server of `routingKey`) and what it says. */
type RequestParts = readonly [
  target: Target,
  routingKey: string,
  opcode: number,
  key: string,
  extras: Buffer,
  value: string | Buffer,
];

/**
 * Sends one request to the server that owns `routingKey`, once (memjs does not resend it), and
 * resolves with its reply. With `cas`, sends it only if it would go out on `cas.connection`,
 * and resolves with {@link NOT_SENT} otherwise. Rejects with a {@link ConnectionFailure} when
 * the connection fails (the outcome is then unknown), and with `NoReplyError` at its deadline.
 */
function send(request: RequestParts, cas?: BoundCas): Promise<RawReply | typeof NOT_SENT> {
  const [{ client, deadlines }, routingKey, opcode, key, extras, value] = request;
  const server = serverFor(client, routingKey);
  if (cas !== undefined && !writesTo(server, cas.connection)) return Promise.resolve(NOT_SENT);
  return new Promise<RawReply>((resolve, reject) => {
    const pending = deadlines.watch(reject);
    let sentOn: Connection | undefined;
    try {
      client.incrSeq();
      const seq = client.seq;
      const bytes = encodeRequest(opcode, key, extras, value, seq, cas?.value);
      const socket = currentConnection(server);
      if (socket !== undefined) corkUntilEndOfTick(socket);
      performOnce(client, routingKey, bytes, seq, (error, response) => {
        deadlines.unwatch(pending);
        const reply = replyOf(server, sentOn, opcode, error, response);
        if (reply instanceof ConnectionFailure) reject(reply);
        else resolve(reply);
      });
      // memjs wrote the request on this socket, or queued it on it while it connects.
      sentOn = currentConnection(server);
    } catch (error) {
      deadlines.unwatch(pending);
      reject(error);
    }
  });
}

/**
 * What memjs handed back for a request that went out on `sentOn`: its reply, or a
 * {@link ConnectionFailure} when the connection failed (tidied up with `abandon`), when the
 * reply came on another connection (memjs matches replies to requests by number only, across
 * all the sockets a server ever had), or when it does not fit the request (the connection is
 * then dropped: its byte stream cannot be trusted).
 */
function replyOf(
  server: ServerInternals | undefined,
  sentOn: Connection | undefined,
  opcode: number,
  error: unknown,
  response: unknown,
): RawReply | ConnectionFailure {
  if (error !== null && error !== undefined) {
    abandon(server, sentOn);
    return new ConnectionFailure(error);
  }
  const reply = response as {
    header: { magic: number; opcode: number; status: number; cas: Buffer };
    extras: Buffer;
    val: Buffer;
  };
  if (sentOn === undefined || currentConnection(server) !== sentOn) {
    return new ConnectionFailure(new Error('the reply did not come on the request’s connection'));
  }
  if (reply.header.magic !== RESPONSE_MAGIC || reply.header.opcode !== opcode) {
    const mismatch = new Error(
      `memcached sent a reply that does not match the request (opcode 0x${reply.header.opcode.toString(16)} for 0x${opcode.toString(16)})`,
    );
    dropConnection(server, mismatch);
    return new ConnectionFailure(mismatch);
  }
  return {
    status: reply.header.status,
    // Copied: the header is a view into memjs's read buffer.
    cas: Buffer.from(reply.header.cas),
    extras: reply.extras,
    value: reply.val,
    connection: sentOn,
  };
}

/** {@link send} for a request without a CAS, which is always sent. */
function sendPlain(...request: RequestParts): Promise<RawReply> {
  return send(request) as Promise<RawReply>;
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
  return sendPlain(target, key, OP.add, key, storeExtras(flags, expirySeconds), value);
}

/** GET: value, flags (in `extras`) and CAS. Status `ok` or `notFound`. */
export function getItem(target: Target, key: string): Promise<RawReply> {
  return sendPlain(target, key, OP.get, key, NO_EXTRAS, NO_EXTRAS);
}

/**
 * SET guarded by `cas`, on `cas`'s connection only: status `ok` (reply has the new CAS),
 * `notFound`, or `exists` (changed); {@link NOT_SENT} when that connection is gone.
 */
export function casSetItem(
  target: Target,
  key: string,
  value: string,
  flags: number,
  expirySeconds: number,
  cas: BoundCas,
): Promise<RawReply | typeof NOT_SENT> {
  return send([target, key, OP.set, key, storeExtras(flags, expirySeconds), value], cas);
}

/** One lock's renewal in {@link casSetMany}. */
export interface CasSet {
  readonly key: string;
  readonly value: string;
  readonly flags: number;
  readonly expirySeconds: number;
  readonly cas: BoundCas;
}

/**
 * Many CAS-guarded SETs (a keepalive tick's renewals), each exactly what {@link casSetItem}
 * sends and sent under the same connection rule, with one promise and one deadline for all of
 * them instead of one each: all leave in one socket write (corked until the end of the tick).
 * Resolves with each reply, or {@link NOT_SENT} for those whose CAS's connection is gone, in
 * order. Rejects as soon as any reply is lost (a connection failure, or `operationTimeout` for
 * the batch): the outcome of every request not answered by then is unknown. Replies that come
 * after that are ignored.
 */
export function casSetMany(
  target: Target,
  sets: readonly CasSet[],
): Promise<(RawReply | typeof NOT_SENT)[]> {
  const { client, deadlines } = target;
  return new Promise((resolve, reject) => {
    const replies = new Array<RawReply | typeof NOT_SENT>(sets.length);
    let waiting = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      deadlines.unwatch(pending);
      reject(error);
    };
    const pending = deadlines.watch(fail);
    try {
      for (let i = 0; i < sets.length && !settled; i++) {
        const set = sets[i] as CasSet;
        const server = serverFor(client, set.key);
        const sentOn = set.cas.connection;
        if (!writesTo(server, sentOn)) {
          replies[i] = NOT_SENT;
          continue;
        }
        client.incrSeq();
        const seq = client.seq;
        const extras = storeExtras(set.flags, set.expirySeconds);
        const bytes = encodeRequest(OP.set, set.key, extras, set.value, seq, set.cas.value);
        corkUntilEndOfTick(sentOn);
        waiting += 1;
        performOnce(client, set.key, bytes, seq, (error, response) => {
          if (settled) return;
          const reply = replyOf(server, sentOn, OP.set, error, response);
          if (reply instanceof ConnectionFailure) return fail(reply);
          replies[i] = reply;
          waiting -= 1;
          if (waiting === 0) {
            settled = true;
            deadlines.unwatch(pending);
            resolve(replies);
          }
        });
      }
    } catch (error) {
      fail(error);
      return;
    }
    if (waiting === 0 && !settled) {
      settled = true;
      deadlines.unwatch(pending);
      resolve(replies);
    }
  });
}

/**
 * DELETE guarded by `cas`, on `cas`'s connection only: status `ok`, `notFound`, or `exists`
 * (changed); {@link NOT_SENT} when that connection is gone.
 */
export function casDeleteItem(
  target: Target,
  key: string,
  cas: BoundCas,
): Promise<RawReply | typeof NOT_SENT> {
  return send([target, key, OP.delete, key, NO_EXTRAS, NO_EXTRAS], cas);
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
  for (let attempt = 1; ; attempt++) {
    const extras = INCREMENT_EXTRAS;
    extras.writeBigUInt64BE(1n, 0);
    extras.writeBigUInt64BE(initial, 8);
    extras.writeUInt32BE(0, 16); // 0 = create when missing, never expire
    const reply = await sendPlain(target, routingKey, OP.increment, counterKey, extras, NO_EXTRAS);
    // Another connection's increment created the missing counter between this one's miss and
    // its create: this one counted nothing, and the counter exists now, so count again (still
    // after our ADD, so the fence still exceeds every earlier holder's).
    if (reply.status === STATUS.notStored && attempt < 3) continue;
    if (reply.status !== STATUS.ok) throw new MemcachedStatusError('increment', reply.status);
    return Number(reply.value.readBigUInt64BE(0));
  }
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
