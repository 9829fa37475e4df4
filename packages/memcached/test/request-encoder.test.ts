import { describe, expect, it } from '@jest/globals';
import { Utils } from 'memjs';
import { encodeRequest } from '../src/request-encoder.js';

describe('encodeRequest', () => {
  const extras = Buffer.from([0, 0, 0, 7, 0, 0, 0, 30]);

  it.each([
    ['an ASCII key and value', 'lock:a', 'owner-token'],
    ['a UTF-8 key and value', 'lock:ключ-🔒', 'владелец'],
    ['an empty value', 'k', ''],
    ['a buffer value', 'k', Buffer.from([1, 2, 3, 255])],
  ])('matches memjs byte for byte for %s', (_, key, value) => {
    const ours = encodeRequest(0x02, key, extras, value, 0xfffffffe);
    expect(ours.equals(Utils.makeRequestBuffer(0x02, key, extras, value, 0xfffffffe))).toBe(true);
  });

  it('puts the CAS in header bytes 16–23 and zeroes them without one', () => {
    const cas = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const withCas = encodeRequest(0x04, 'k', Buffer.alloc(0), '', 9, cas);
    expect(withCas.subarray(16, 24).equals(cas)).toBe(true);
    // A reused, dirty pool buffer must not leak into the CAS field.
    for (let i = 0; i < 1_000; i++) {
      const plain = encodeRequest(0x04, 'k', Buffer.alloc(0), '', 9);
      expect(plain.subarray(16, 24).equals(Buffer.alloc(8))).toBe(true);
    }
  });
});
