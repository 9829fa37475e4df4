import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { heapPerItem, settledHeapUsed } from '../src/heap.js';

beforeAll(() => {
  // What `node --expose-gc` gives pnpm bench, for this jest worker.
  setFlagsFromString('--expose-gc');
  (globalThis as { gc?: () => void }).gc = runInNewContext('gc') as () => void;
});

describe('heap per lock', () => {
  it('is positive even for items that hold almost nothing (the array holding them counts)', async () => {
    for (let run = 0; run < 5; run++) {
      const { bytesPerItem } = await heapPerItem(
        10_000,
        async () => Array.from({ length: 10_000 }, () => ({})),
        async () => {},
      );
      expect(bytesPerItem).toBeGreaterThan(0);
    }
  });

  it('is not lowered by garbage made before the baseline: the settled baseline collects it', async () => {
    for (let i = 0; i < 50; i++) Array.from({ length: 10_000 }, (_, j) => ({ j })); // garbage
    const { bytesPerItem } = await heapPerItem(
      1_000,
      async () => Array.from({ length: 1_000 }, () => ({})),
      async () => {},
    );
    expect(bytesPerItem).toBeGreaterThan(0);
  });

  it('is not lowered by live data dropped while the items are made (the after reading sees it gone too)', async () => {
    let live: unknown[] | undefined = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    const { bytesPerItem } = await heapPerItem(
      2_000,
      async () => {
        live = undefined;
        return Array.from({ length: 2_000 }, () => new Array<number>(256).fill(1.5));
      },
      async () => {},
    );
    expect(live).toBeUndefined();
    expect(bytesPerItem).toBeGreaterThan(2_048);
    expect(bytesPerItem).toBeLessThan(2_048 * 1.25);
  });

  it('gives an error, never a negative figure, when the heap did not grow', async () => {
    let live: unknown[] | undefined = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    await expect(
      heapPerItem(
        1_000,
        async () => {
          live = undefined;
          return Array.from({ length: 1_000 }, () => ({}));
        },
        // Something allocated after release and kept: larger than what was freed before.
        async () => {
          live = Array.from({ length: 200_000 }, (_, i) => ({ i }));
        },
      ),
    ).rejects.toThrow(/did not grow/);
    expect(live).toBeDefined();
  });

  it('finds what each item keeps alive', async () => {
    const { bytesPerItem } = await heapPerItem(
      2_000,
      async () => Array.from({ length: 2_000 }, () => new Array<number>(256).fill(1.5)),
      async () => {},
    );
    // 256 doubles = 2 KiB of elements, plus headers and the holding array's slot.
    expect(bytesPerItem).toBeGreaterThan(2_048);
    expect(bytesPerItem).toBeLessThan(2_048 * 1.25);
  });

  it('refuses to run without a full GC to settle the heap', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    (globalThis as { gc?: () => void }).gc = undefined;
    try {
      expect(() => settledHeapUsed()).toThrow(/--expose-gc/);
    } finally {
      (globalThis as { gc?: () => void }).gc = gc;
    }
  });
});
