import type { AcquireResult, BackendLockInfo, OwnerCheckedResult } from '@lock/core';
import { BackendError } from '@lock/core';
import { WAITING_MARK } from './scripts.js';

/** An owner token as stored, without fair mode's mark for "waiters are queued". */
function unmarked(value: string): string {
  return value.endsWith(WAITING_MARK) ? value.slice(0, -WAITING_MARK.length) : value;
}

/** Maps a script's 1 / 0 / -1 to an owner-checked result. */
export function toOwnerChecked(reply: unknown): OwnerCheckedResult {
  const value = Number(reply);
  if (value === 1) return 'ok';
  if (value === 0) return 'not-found';
  if (value === -1) return 'forbidden';
  throw new BackendError('redis script returned an unexpected reply', { cause: reply });
}

/** A non-negative PTTL as remaining milliseconds, else undefined (-1 no expiry, -2 missing). */
function remaining(pttl: unknown): number | undefined {
  const value = Number(pttl);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) {
    throw new BackendError('redis script returned an unexpected reply', { cause: reply });
  }
  return reply;
}

/** Parses `{1, fence}` / `{0, holder, pttl, ticket?}` from the acquire scripts. */
export function toAcquireResult(reply: unknown): AcquireResult & { ticket?: string } {
  const [flag, second, pttl, ticket] = asArray(reply);
  if (Number(flag) === 1) return { acquired: true, fence: Number(second) };
  return {
    acquired: false,
    holder: typeof second === 'string' ? unmarked(second) : undefined,
    remainingMs: remaining(pttl),
    ...(ticket === undefined || ticket === null ? {} : { ticket: String(ticket) }),
  };
}

/** Parses `{owner, pttl, fence}` from the inspect script. */
export function toLockInfo(reply: unknown): BackendLockInfo | undefined {
  const [owner, pttl, fence] = asArray(reply);
  if (typeof owner !== 'string') return undefined;
  const fenceNumber = fence === null || fence === undefined ? undefined : Number(fence);
  return {
    owner: unmarked(owner),
    remainingMs: remaining(pttl),
    fence: fenceNumber !== undefined && Number.isFinite(fenceNumber) ? fenceNumber : undefined,
  };
}
