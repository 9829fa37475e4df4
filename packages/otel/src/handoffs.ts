import type { KeyScope } from './key-scope.js';

/** Most keys followed for handoffs at once (the oldest followed is dropped beyond this). */
const MAX_FOLLOWED_KEYS = 10_000;

/** What is known of one followed key between a release and the next grant. */
class KeyTurn {
  /** When the latest release of the key here was sent (NaN: none since the latest grant). */
  releaseSentAt = Number.NaN;
  /** The scope that release was recorded in. */
  scope: KeyScope | undefined = undefined;
  /**
   * A call that waited and was granted the key before the previous holder's release here was
   * confirmed (both replies raced): when the call began and when it was granted (NaN: none).
   */
  successorStartedAt = Number.NaN;
  successorGrantedAt = Number.NaN;
}

/**
 * Times handoffs: from the moment a holder of this process sent its release to the grant of the
 * same key to a call of this process that was already waiting. Only keys that calls of this
 * process have waited for are followed (from their first denied attempt or their first waited
 * grant on), so the uncontended path costs one `Map` size check per grant and per release
 * instead of a `Map` write per grant (about 320 instructions, 0.8% of an uncontended Redis
 * pair's, counted under valgrind).
 *
 * What that leaves out: a handoff to a call whose only wait was in the backend's queue (no
 * denied attempt) on a key no call here had waited for before, and one to a call whose first
 * denial arrived after the holder's release was confirmed. Either key is followed from then on.
 */
export class Handoffs {
  readonly #followed = new Map<string, KeyTurn>();

  /** A call of this process found `key` held: follow it. */
  contended(key: string): void {
    if (!this.#followed.has(key)) this.#follow(key);
  }

  /**
   * `key` was granted to a call that began at `startedAt` (`waited`: after finding it held) at
   * `grantedAt`: records the handoff from the release before it, or keeps the call as the
   * successor of a release not confirmed yet.
   */
  granted(key: string, waited: boolean, startedAt: number, grantedAt: number): void {
    if (this.#followed.size === 0 && !waited) return;
    let turn = this.#followed.get(key);
    if (turn === undefined) {
      if (!waited) return;
      turn = this.#follow(key);
    }
    const sentAt = turn.releaseSentAt;
    turn.releaseSentAt = Number.NaN; // the next grant follows this one, not that release
    if (!waited) return;
    if (Number.isNaN(sentAt)) {
      turn.successorStartedAt = startedAt;
      turn.successorGrantedAt = grantedAt;
    } else if (sentAt >= startedAt) {
      // A release sent before the call began is no handoff to it.
      turn.scope?.handoffs.record(Math.max(0, grantedAt - sentAt) / 1000);
    }
  }

  /**
   * A hold of `key` recorded in `scope`, held `holdMs` until it sent its release at `sentAt`
   * (confirmed now): records the handoff to a successor already granted, or keeps the send time
   * for the next grant.
   */
  released(key: string, scope: KeyScope, holdMs: number, sentAt: number): void {
    if (this.#followed.size === 0) return;
    const turn = this.#followed.get(key);
    if (turn === undefined) return;
    const successorGrantedAt = turn.successorGrantedAt;
    turn.successorGrantedAt = Number.NaN;
    // A successor granted after this hold's grant (core's `holdMs` is `sentAt` minus the grant
    // time: the same subtraction, so the successor's own release compares equal, not later) that
    // had begun waiting before this release was sent: this release handed the key to it.
    if (sentAt - successorGrantedAt < holdMs && sentAt >= turn.successorStartedAt) {
      scope.handoffs.record(Math.max(0, successorGrantedAt - sentAt) / 1000);
      return;
    }
    turn.releaseSentAt = sentAt;
    turn.scope = scope;
  }

  /** Forgets every key. */
  clear(): void {
    this.#followed.clear();
  }

  #follow(key: string): KeyTurn {
    if (this.#followed.size >= MAX_FOLLOWED_KEYS) {
      const oldest = this.#followed.keys().next().value as string;
      this.#followed.delete(oldest);
    }
    const turn = new KeyTurn();
    this.#followed.set(key, turn);
    return turn;
  }
}
