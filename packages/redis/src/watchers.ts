/**
 * The watchers of one backend, per channel, woken one at a time: each release message wakes
 * the watcher that has waited longest since it was last woken, then it goes to the back.
 *
 * Waking every waiter on every release makes them all race for the one free lock (a thundering
 * herd: with 1,000 waiters, 1,000 attempts per release). One wakeup per release per backend is
 * enough for progress: the woken waiter takes the lock, or someone else did and its release
 * will wake the next. A wakeup lost to a failed attempt costs at most core's safety poll.
 */
export class WatcherGroups {
  readonly #groups = new Map<string, Set<() => void>>();

  /** Adds `watcher` to `channel`'s group; returns true if it is the group's first watcher. */
  add(channel: string, watcher: () => void): boolean {
    let group = this.#groups.get(channel);
    const first = group === undefined;
    if (group === undefined) {
      group = new Set();
      this.#groups.set(channel, group);
    }
    group.add(watcher);
    return first;
  }

  /** Removes `watcher`; returns true if the group is now empty (and gone). */
  delete(channel: string, watcher: () => void): boolean {
    const group = this.#groups.get(channel);
    if (group === undefined || !group.delete(watcher)) return false;
    if (group.size > 0) return false;
    this.#groups.delete(channel);
    return true;
  }

  /** Wakes the longest-waiting watcher of `channel` and moves it to the back of the line. */
  wakeOne(channel: string): void {
    const group = this.#groups.get(channel);
    if (group === undefined) return;
    for (const watcher of group) {
      group.delete(watcher);
      group.add(watcher);
      watcher();
      return;
    }
  }

  /**
   * Wakes every watcher of `channel`: a semaphore's freed permits may serve several waiters, and
   * which of them is first in line is known only to the server.
   */
  wakeAll(channel: string): void {
    const group = this.#groups.get(channel);
    if (group === undefined) return;
    for (const watcher of [...group]) watcher();
  }
}
