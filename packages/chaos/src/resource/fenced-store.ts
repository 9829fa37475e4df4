/**
 * The rule of a fenced resource: a write to a key is accepted only if its fence is at least the
 * highest fence seen for that key (accepted or not), so a holder that woke up after someone with
 * a larger fence wrote cannot overwrite them.
 */
export class FencedStore {
  readonly #highest = new Map<string, number>();

  /** Applies one write; returns whether it was accepted. */
  write(key: string, fence: number): boolean {
    const highest = this.#highest.get(key);
    if (highest !== undefined && fence < highest) return false;
    this.#highest.set(key, fence);
    return true;
  }
}
