/**
 * The record primitive core builds semaphores and read-write locks on (its compare-and-set
 * fallback): one memcached item per key holding core's JSON record, read with its CAS and
 * written with ADD (no record yet) or a CAS-guarded SET.
 *
 * The rules of issue #8 hold here as for locks: a GET and an ADD may be sent again after their
 * connection failed (a GET changes nothing; an ADD stores only if the item is absent, which is
 * exactly the state the write was decided on), but a CAS-guarded SET goes out once, and only on
 * the connection its CAS came from (see `record-versions.ts`): memjs would resend it on a new
 * connection, possibly to a restarted server where the same CAS names another record.
 * @module
 */
import type { VersionedRecord } from '@lock/core';
import {
  addItem,
  boundCas,
  casSetItem,
  getItem,
  MemcachedStatusError,
  NOT_SENT,
  type RawReply,
  STATUS,
  type Target,
} from './cas-requests.js';
import { serverFor } from './memjs-internals.js';
import { casOf, versionOf } from './record-versions.js';
import { type RetryPolicy, withRetries } from './retry.js';

/**
 * Expiration of a record: never. The record holds the fence counter, which must survive the key
 * going idle for fences to keep growing (core's contract), and it outlives every holder and
 * waiter in it by construction. memcached may still evict it (LRU) or lose it in a restart:
 * see the README.
 */
const NEVER = 0;

/** binary-protocol status "item not stored". */
const NOT_STORED = 0x05;

/** Statuses of a conditional store that mean "someone else wrote first" (core reads again). */
function isConflict(status: number): boolean {
  return status === STATUS.exists || status === STATUS.notFound || status === NOT_STORED;
}

/** The record at `recordKey` and its version, or `undefined`. One GET (retried if its connection fails). */
export async function readRecord(
  target: Target,
  retry: RetryPolicy,
  recordKey: string,
): Promise<VersionedRecord | undefined> {
  const reply = await withRetries(retry, () => getItem(target, recordKey));
  if (reply.status === STATUS.notFound) return undefined;
  if (reply.status !== STATUS.ok) throw new MemcachedStatusError('get', reply.status);
  assertCasKept(reply);
  return { value: reply.value.toString('utf8'), version: versionOf(boundCas(reply)) };
}

/**
 * Writes `value` at `recordKey` if the record is still at `expectedVersion` (`undefined`: only if
 * there is none). `'conflict'` when it changed, vanished, or appeared meanwhile, and when the
 * connection the version's CAS came on is gone (nothing was sent: reading again is safe).
 * Rejects when the reply of a request that left is lost: its outcome is unknown.
 */
export async function writeRecord(
  target: Target,
  retry: RetryPolicy,
  recordKey: string,
  value: string,
  expectedVersion: string | undefined,
): Promise<'ok' | 'conflict'> {
  if (expectedVersion === undefined) {
    const added = await withRetries(retry, () => addItem(target, recordKey, value, 0, NEVER));
    if (added.status === STATUS.ok) assertCasKept(added);
    // A resent ADD whose first copy landed answers "exists": core reads again and finds its own
    // write (its rules recognise an owner that already holds).
    return outcomeOf(added, 'add');
  }
  const cas = casOf(expectedVersion, serverFor(target.client, recordKey));
  if (cas === undefined) return 'conflict';
  const reply = await casSetItem(target, recordKey, value, 0, NEVER, cas);
  if (reply === NOT_SENT) return 'conflict';
  return outcomeOf(reply, 'cas');
}

function outcomeOf(reply: RawReply, operation: string): 'ok' | 'conflict' {
  if (reply.status === STATUS.ok) return 'ok';
  if (isConflict(reply.status)) return 'conflict';
  throw new MemcachedStatusError(operation, reply.status);
}

/**
 * A server started with `-C` keeps no CAS values: a SET "guarded" by CAS 0 is unconditional, so
 * a compare-and-set loop would overwrite others' writes. Refuse, as locks do.
 */
function assertCasKept(reply: RawReply): void {
  if (reply.cas.every((byte) => byte === 0)) {
    throw new Error('the server keeps no CAS values (started with -C): semaphores need them');
  }
}
