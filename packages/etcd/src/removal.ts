import type { ICompare, ITxnRequest, ITxnResponse } from 'etcd3';
import { deleteEntry } from './kv-ops.js';

/** How often, and how far apart, a background removal is tried. */
const ATTEMPTS = 6;
const SPACING_MS = 250;

/**
 * Deletes `entry` in the background if `guard` still holds, retrying a few times. Used when a
 * write's outcome is unknown (it timed out, or its caller gave up) or a release failed: an entry
 * left behind would hold its place (or the lock) for as long as its lease lives, and a lease is
 * shared with the owner's other locks, which keep renewing it.
 */
export function removeInBackground(
  txn: (request: ITxnRequest) => Promise<ITxnResponse>,
  entry: Buffer,
  guard: ICompare,
): void {
  const attempt = (left: number): void => {
    txn({ compare: [guard], success: [deleteEntry(entry)] }).catch(() => {
      if (left > 1) setTimeout(() => attempt(left - 1), SPACING_MS).unref?.();
    });
  };
  attempt(ATTEMPTS);
}
