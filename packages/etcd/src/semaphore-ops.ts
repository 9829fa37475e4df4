/**
 * The etcd shape of a semaphore (or read-write lock): a line of entries ordered by create
 * revision, each one holder or waiter attached to its owner's lease, and what the rules of
 * `decideSemaphore` (core) come to on it.
 *
 * **The line.** Every acquisition writes one entry in the semaphore's folder; entries never move
 * in the line (a lease move keeps the create revision). An entry holds when the counts of every
 * entry from the head down to it, its own included, fit in the permits; the rest wait. That is
 * core's strict FIFO with reservation (rule 4): holders are a prefix of the line, a waiter needing
 * many permits blocks every later one, and a waiting writer (count = permits) every later reader.
 * An entry becomes a holder the moment the entries ahead of it are gone (its owner learns it at
 * its next attempt), so grants happen in create-revision order, and the fence of a grant is its
 * entry's create revision: strictly growing across every grant of the key and past the key going
 * idle, since etcd's revision only grows (rule 5).
 *
 * **Kind and permit count (rule 2)** are in every entry's value and in one config key per
 * semaphore, which a write keeps equal to the live entries': an entry is put only if the folder
 * is empty (and the config key is set with it), or the config key already says the same, or no
 * entry was created since a read that showed only entries of the same kind and count. So the
 * live entries of a key always agree, and a request with another kind or count is refused while
 * any live entry exists. The config key has no lease (a few bytes per semaphore key ever used).
 * @module
 */
import type { SemaphoreKind, SemaphoreMode } from '@lock/core';
import type { ICompare, IKeyValue, IRequestOp, ITxnRequest, ITxnResponse } from 'etcd3';
import { rangeEnd } from './keys.js';
import { absent, allIn, createdAt, folderEmpty } from './kv-ops.js';

/** One entry of a semaphore's line, as read from etcd. */
export interface LineEntry {
  /** The entry's key. */
  readonly key: Buffer;
  /** Its create revision: its place in the line, and its fence once it holds. */
  readonly revision: string;
  /** The lease it is attached to (etcd's decimal ID). */
  readonly lease: string;
  readonly owner: string;
  readonly count: number;
  readonly mode: SemaphoreMode;
  /** The permit count its acquisition asked for. */
  readonly permits: number;
}

/** An entry's value as stored (JSON). */
interface StoredEntry {
  /** owner */
  readonly o: string;
  /** count */
  readonly c: number;
  /** mode */
  readonly m: SemaphoreMode;
  /** permits */
  readonly p: number;
}

/** The value of an entry for `owner` asking for `count` of `permits` in `mode`. */
export function entryValue(owner: string, count: number, mode: SemaphoreMode, permits: number) {
  const stored: StoredEntry = { o: owner, c: count, m: mode, p: permits };
  return Buffer.from(JSON.stringify(stored));
}

/** The config key's value for a semaphore of `mode`'s kind and `permits`. */
export function configValue(mode: SemaphoreMode, permits: number): Buffer {
  return Buffer.from(`${kindOfMode(mode)}:${permits}`);
}

/** `'semaphore'` for permits, `'read-write'` for reads and writes. */
export function kindOfMode(mode: SemaphoreMode): SemaphoreKind {
  return mode === 'permit' ? 'semaphore' : 'read-write';
}

/**
 * The entries of a range read, in create-revision order (as read). A key in the folder that is
 * not an entry (written by hand) is left out of the line.
 */
export function parseLine(kvs: readonly IKeyValue[]): LineEntry[] {
  const line: LineEntry[] = [];
  for (const kv of kvs) {
    let stored: Partial<StoredEntry>;
    try {
      stored = JSON.parse(kv.value.toString()) as Partial<StoredEntry>;
    } catch {
      continue;
    }
    const { o, c, m, p } = stored;
    if (typeof o !== 'string' || typeof c !== 'number' || typeof p !== 'number') continue;
    if (m !== 'permit' && m !== 'read' && m !== 'write') continue;
    line.push({
      key: kv.key,
      revision: kv.create_revision,
      lease: kv.lease,
      owner: o,
      count: c,
      mode: m,
      permits: p,
    });
  }
  return line;
}

/** How many entries at the head of `line` hold (their counts, summed from the head, fit). */
export function holdersIn(line: readonly LineEntry[], permits: number): number {
  let used = 0;
  for (const [index, entry] of line.entries()) {
    used += entry.count;
    if (used > permits) return index;
  }
  return line.length;
}

/** The kind and permit count of a non-empty line (all of its entries agree: see the module). */
export function configOf(
  line: readonly LineEntry[],
): { kind: SemaphoreKind; permits: number } | undefined {
  const head = line[0];
  return head === undefined ? undefined : { kind: kindOfMode(head.mode), permits: head.permits };
}

/** Compare: no entry of `folder` was created after `revision` (deletes do not count). */
export function noneCreatedAfter(folder: Buffer, revision: string): ICompare {
  return {
    key: folder,
    range_end: rangeEnd(folder),
    target: 'Create',
    result: 'Less',
    create_revision: (BigInt(revision) + 1n).toString(),
  };
}

/** Compare: `key`'s value is exactly `value` (false when `key` does not exist). */
export function valueIs(key: Buffer, value: Buffer): ICompare {
  return { key, target: 'Value', result: 'Equal', value };
}

/** Read: every entry of `folder` created before `revision`, oldest first. */
export function entriesAhead(folder: Buffer, revision: string): IRequestOp {
  const all = allIn(folder);
  return {
    request_range: {
      ...all.request_range,
      max_create_revision: (BigInt(revision) - 1n).toString(),
    },
  };
}

/** What a semaphore write puts: the entry on its lease, with the config key beside it. */
export interface EntryWrite {
  readonly folder: Buffer;
  readonly config: Buffer;
  readonly configValue: Buffer;
  readonly entry: Buffer;
  readonly value: Buffer;
  readonly lease: string;
}

function put(key: Buffer, value: Buffer, lease?: string): IRequestOp {
  return { request_put: lease === undefined ? { key, value } : { key, value, lease } };
}

/** The line, read after whatever the transaction wrote. */
function reads(write: EntryWrite): IRequestOp[] {
  return [allIn(write.folder)];
}

/**
 * A newcomer's attempt: unless its entry exists already (a retried attempt that committed), put
 * it if the folder is empty (setting the config key), or — when it may wait — if the config key
 * already matches; then read the line. One round trip whether it is granted,
 * joins the line or is refused. (etcd judges every nested compare against the state before the
 * transaction, which is what these need.)
 */
export function firstAttempt(write: EntryWrite, wait: boolean): ITxnRequest {
  const entryOnly = put(write.entry, write.value, write.lease);
  return {
    compare: [absent(write.entry)],
    success: [
      {
        request_txn: {
          compare: [folderEmpty(write.folder)],
          success: [put(write.config, write.configValue), entryOnly],
          failure: wait
            ? [
                {
                  request_txn: {
                    compare: [valueIs(write.config, write.configValue)],
                    success: [entryOnly],
                  },
                },
              ]
            : [],
        },
      },
      ...reads(write),
    ],
    failure: reads(write),
  };
}

/**
 * A newcomer's second attempt, after a read at `readAt` showed only entries of its own kind and
 * count (and, for a try, room for it): put the entry and the config key if no entry was created
 * since that read (deletes only make room), then read the line again.
 */
export function guardedAttempt(write: EntryWrite, readAt: string): ITxnRequest {
  return {
    compare: [absent(write.entry), noneCreatedAfter(write.folder, readAt)],
    success: [
      put(write.config, write.configValue),
      put(write.entry, write.value, write.lease),
      ...reads(write),
    ],
    failure: reads(write),
  };
}

/** A waiter's check of its place: the entries ahead of it, if its entry is still there. */
export function placeCheck(folder: Buffer, entry: Buffer, revision: string): ITxnRequest {
  return { compare: [createdAt(entry, revision)], success: [entriesAhead(folder, revision)] };
}

/** The line read at the end of an attempt's transaction. */
export function lineOf(reply: ITxnResponse): LineEntry[] {
  const responses = reply.responses;
  return parseLine(responses[responses.length - 1]?.response_range?.kvs ?? []);
}
