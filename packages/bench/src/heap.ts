/** The heap in use once garbage collection has nothing left to free. */
export function settledHeapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined)
    throw new Error('heap per lock needs a full GC: run node with --expose-gc (pnpm bench does)');
  // Repeat until a collection frees less than 4 KiB: one pass can leave weakly held or
  // finalizable objects that the next one frees.
  let previous = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 10; pass++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(previous - used) < 4096) return used;
    previous = used;
  }
  return previous;
}

/**
 * Bytes of heap each of `count` items from `make` keeps alive. The settled heap is read before
 * making them, while they are held, and after `use` has finished with them (it releases them;
 * nothing may keep them); the figure is the larger of holding − before and holding − after.
 * Something unrelated freed while the items were made lowers the first but not the second
 * (it is gone from both readings), and state an implementation keeps after release lowers the
 * second but not the first. The items stay referenced through the holding reading, and the array
 * holding them alone is 8 bytes an item, so an honest figure is positive; if both differences
 * are not, that is an error, never a negative figure. pnpm bench runs it in a fresh process per
 * implementation, after a warm-up.
 */
export async function heapPerItem<T, R>(
  count: number,
  make: () => Promise<T[]>,
  use: (items: T[]) => Promise<R>,
): Promise<{ bytesPerItem: number; result: R }> {
  const before = settledHeapUsed();
  let items: T[] | undefined = await make();
  const holding = settledHeapUsed();
  const result = await use(items);
  items = undefined;
  const after = settledHeapUsed();
  const bytesPerItem = Math.max(holding - before, holding - after) / count;
  if (!(bytesPerItem > 0))
    throw new Error(
      `heap did not grow while ${count} items were held (before ${before}, holding ${holding}, after ${after} bytes): something else was freed meanwhile, so there is no figure`,
    );
  return { bytesPerItem, result };
}
