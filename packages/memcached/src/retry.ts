/**
 * Which requests this package sends again after their connection failed, and how.
 *
 * memjs would resend any request, on whatever connection it opens next; this package turns that
 * off (`performOnce`) and retries only what is safe to apply twice or on another server process:
 * - a GET (it changes nothing; the CAS it returns is tied to the connection it came on);
 * - a whole acquire attempt, ADD then fence INCREMENT on one connection. A replayed ADD is
 *   safe: it stores only if the key is absent, with an owner token unique to this acquisition,
 *   so it can never overwrite anyone; if the first one landed, the retry finds our own token and
 *   counts as granted. A replayed INCREMENT only skips a fence number, and the retry sends its
 *   INCREMENT after its ADD on the same connection, so the fence it returns is still counted
 *   after our ADD was applied, hence after every earlier holder's fence.
 *
 * CAS-guarded SET and DELETE (extend, release) are never sent again: after a server restart the
 * same CAS could name another process's item. Their failure is an unknown outcome, reported as
 * a `BackendError`.
 * @module
 */
import { ConnectionFailure } from './errors.js';
import type { RetrySettings } from './memjs-internals.js';

/** How to retry: memjs's settings, and a pause that stops when the backend closes. */
export interface RetryPolicy extends RetrySettings {
  readonly pause: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt`, and again after a pause while it fails with a {@link ConnectionFailure} and
 * attempts remain. Only for work that is safe to repeat (see the module comment).
 */
export function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  // The first attempt is on every call's path: no async wrapper around it.
  return attempt().catch((error: unknown) => retryAfter(policy, attempt, error));
}

async function retryAfter<T>(
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  firstError: unknown,
): Promise<T> {
  let error = firstError;
  for (let made = 1; ; made++) {
    if (made >= policy.attempts || !(error instanceof ConnectionFailure)) throw error;
    await policy.pause(policy.delayMs);
    try {
      return await attempt();
    } catch (next) {
      error = next;
    }
  }
}
