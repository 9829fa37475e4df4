import type { ICompare, IRequestOp, ITxnRequest } from 'etcd3';
import { rangeEnd } from './keys.js';

/** Compare: nobody has an entry in `folder` (etcd compares an empty range as a zero key). */
export function folderEmpty(folder: Buffer): ICompare {
  return {
    key: folder,
    range_end: rangeEnd(folder),
    target: 'Create',
    result: 'Equal',
    create_revision: 0,
  };
}

/** Compare: `entry` does not exist. */
export function absent(entry: Buffer): ICompare {
  return { key: entry, target: 'Create', result: 'Equal', create_revision: 0 };
}

/** Compare: `entry` is the one created at `revision` (so it was not deleted and re-created). */
export function createdAt(entry: Buffer, revision: string): ICompare {
  return { key: entry, target: 'Create', result: 'Equal', create_revision: revision };
}

/** Compare: `entry` holds `owner` (entries are unique per owner token, so this is its own). */
export function ownedBy(entry: Buffer, owner: string): ICompare {
  return { key: entry, target: 'Value', result: 'Equal', value: Buffer.from(owner) };
}

/** Read: the holder of `folder`, the entry with the lowest create revision. */
export function firstIn(folder: Buffer): IRequestOp {
  return {
    request_range: {
      key: folder,
      range_end: rangeEnd(folder),
      sort_order: 'Ascend',
      sort_target: 'Create',
      limit: 1,
    },
  };
}

/** Read: every entry of `folder`, oldest first. */
export function allIn(folder: Buffer): IRequestOp {
  return {
    request_range: {
      key: folder,
      range_end: rangeEnd(folder),
      sort_order: 'Ascend',
      sort_target: 'Create',
    },
  };
}

/**
 * Read: keys of the `limit` newest entries of `folder` created before `revision` (the waiters
 * ahead of the one created at `revision`), newest first; the reply's `more` says if there are
 * older ones beyond them.
 */
export function entriesBefore(folder: Buffer, revision: string, limit: number): IRequestOp {
  const newest = newestIn(folder, limit);
  return {
    request_range: {
      ...newest.request_range,
      max_create_revision: (BigInt(revision) - 1n).toString(),
    },
  };
}

/**
 * Read: keys of the `limit` newest entries of `folder`, newest first. Inside the transaction
 * that just wrote an entry, that entry comes first and the waiters just ahead of it follow.
 */
export function newestIn(folder: Buffer, limit: number): IRequestOp {
  return {
    request_range: {
      key: folder,
      range_end: rangeEnd(folder),
      sort_order: 'Descend',
      sort_target: 'Create',
      limit,
      keys_only: true,
    },
  };
}

/** Write: `entry` = `owner`, attached to lease `leaseId`. */
export function putEntry(entry: Buffer, owner: string, leaseId: string): IRequestOp {
  return { request_put: { key: entry, value: Buffer.from(owner), lease: leaseId } };
}

/** Write: delete `entry`. */
export function deleteEntry(entry: Buffer): IRequestOp {
  return { request_delete_range: { key: entry } };
}

/** Read: `entry` alone. */
export function getEntry(entry: Buffer): IRequestOp {
  return { request_range: { key: entry } };
}

/**
 * The acquire transaction: if nobody has an entry in `folder`, write `entry` = `owner` on lease
 * `leaseId`; else read the holder (the entry with the lowest create revision).
 */
export function putIfEmpty(
  folder: Buffer,
  entry: Buffer,
  owner: string,
  leaseId: string,
): ITxnRequest {
  return {
    compare: [folderEmpty(folder)],
    success: [putEntry(entry, owner, leaseId)],
    failure: [firstIn(folder)],
  };
}
