/**
 * The `version` this package hands core for a semaphore record: the item's CAS *and* the
 * connection its reply came on, as one opaque string.
 *
 * Why not the CAS alone: a CAS is a number that a memcached process counts up from 1 when it
 * starts, so it means something only to the process that issued it. A version that core passes
 * back to `writeRecord` after a server restart could otherwise equal the CAS of someone else's
 * record on the restarted server (issue #8). The string names the connection by a number this
 * process gives each connection it sees; a write whose connection is not the one memjs would
 * write on now is never sent.
 * @module
 */
import type { BoundCas } from './cas-requests.js';
import { type Connection, currentConnection, type ServerInternals } from './memjs-internals.js';

/** Numbers of the connections seen so far; a connection object is never renumbered. */
const connectionIds = new WeakMap<Connection, number>();
let lastConnectionId = 0;

function idOf(connection: Connection): number {
  let id = connectionIds.get(connection);
  if (id === undefined) {
    lastConnectionId += 1;
    id = lastConnectionId;
    connectionIds.set(connection, id);
  }
  return id;
}

/** The version string of a CAS: `<connection number>:<CAS in hex>`. */
export function versionOf(cas: BoundCas): string {
  return `${idOf(cas.connection)}:${cas.value.toString('hex')}`;
}

/**
 * The CAS that `version` names, bound to `server`'s current connection, or `undefined` when
 * that connection is not the one the CAS came on (closed, reopened, or a restart in between)
 * or the string is not a version of ours. Sending it is then unsafe; the caller reads again.
 */
export function casOf(version: string, server: ServerInternals | undefined): BoundCas | undefined {
  const match = /^(\d+):([0-9a-f]{16})$/.exec(version);
  const connection = currentConnection(server);
  if (match === null || connection === undefined) return undefined;
  if (idOf(connection) !== Number(match[1])) return undefined;
  return { value: Buffer.from(match[2] as string, 'hex'), connection };
}
