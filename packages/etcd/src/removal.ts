import type { ICompare, ITxnRequest, ITxnResponse } from 'etcd3';
import { deleteEntry } from './kv-ops.js';

/** First and longest spacing between two attempts of a background removal. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2_000;

/**
 * Deletes `entry` in the background if `guard` still holds, and keeps trying (250 ms apart at
 * first, then up to 2 s) until etcd answers, either way: deleted, or the guard no longer holds
 * (the entry is gone or someone else's). It stops early only when `needless()` says so: the
 * backend closed (its leases are revoked, or lapse unrenewed) or the entry's lease is gone,
 * taking the entry with it.
 *
 * Used when a release or a clean-up failed, or a write's outcome is unknown (it timed out, or
 * its caller gave up). An entry left behind would hold its place (or the lock) for as long as its
 * lease lives, and a lease is shared with the owner's other locks, which keep renewing it: a
 * removal that gave up after a few attempts left the key blocked until the process exited.
 */
export function removeInBackground(
  txn: (request: ITxnRequest) => Promise<ITxnResponse>,
  entry: Buffer,
  guard: ICompare,
  needless: () => boolean,
): void {
  const attempt = (spacingMs: number): void => {
    if (needless()) return;
    txn({ compare: [guard], success: [deleteEntry(entry)] }).catch(() => {
      const next = Math.min(MAX_RETRY_MS, spacingMs * 2);
      setTimeout(() => attempt(next), spacingMs).unref?.();
    });
  };
  attempt(FIRST_RETRY_MS);
}
