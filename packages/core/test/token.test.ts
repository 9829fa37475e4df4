import { describe, expect, it } from '@jest/globals';
import { identityOf, newOwnerToken } from '../src/index.js';

describe('owner tokens', () => {
  it('are "<identity>.<22 base64url chars>" (128 random bits), unique, and split back to the identity', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const token = newOwnerToken('worker.eu-1');
      expect(token).toMatch(/^worker\.eu-1\.[A-Za-z0-9_-]{22}$/);
      // Standard base64url of 16 bytes, its last character's 4 padding bits zero.
      const secret = token.slice('worker.eu-1.'.length);
      expect(Buffer.from(secret, 'base64url').toString('base64url')).toBe(secret);
      tokens.add(token);
    }
    expect(tokens.size).toBe(20_000);
    expect(identityOf(newOwnerToken('worker.eu-1'))).toBe('worker.eu-1');
  });

  it('use every character of the alphabet about evenly (no bias from the encoding)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) {
      for (const ch of newOwnerToken('x').slice(2, 22)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(64);
    const expected = (4_000 * 20) / 64;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(expected * 0.75);
      expect(count).toBeLessThan(expected * 1.25);
    }
  });
});
