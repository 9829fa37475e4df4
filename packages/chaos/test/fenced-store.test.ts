import { describe, expect, it } from '@jest/globals';
import { FencedStore } from '../src/resource/fenced-store.js';

describe('the fenced resource', () => {
  it('accepts a write whose fence is at least the highest seen for its key, per key', () => {
    const store = new FencedStore();
    expect(store.write('a', 5)).toBe(true);
    expect(store.write('a', 5)).toBe(true);
    expect(store.write('a', 4)).toBe(false);
    expect(store.write('b', 1)).toBe(true);
    expect(store.write('a', 9)).toBe(true);
    expect(store.write('a', 6)).toBe(false);
  });
});
