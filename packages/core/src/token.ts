/**
 * Owner tokens: `"<identity>.<secret>"`. The identity is public (a name for the locker that
 * appears in "held by …" errors); the secret is 128 random bits, fresh per acquisition, and
 * is what makes a token unguessable. Only the token's holder can extend or release.
 * @module
 */

const SECRET_BYTES = 16;

/** A new random identity for a locker that was not given one. */
export function randomIdentity(): string {
  return `locker-${randomBase64Url(6)}`;
}

/** A fresh owner token for one acquisition by `identity`. */
export function newOwnerToken(identity: string): string {
  return `${identity}.${randomBase64Url(SECRET_BYTES)}`;
}

/** The public identity part of an owner token (everything before the last dot). */
export function identityOf(owner: string): string {
  const dot = owner.lastIndexOf('.');
  return dot < 0 ? owner : owner.slice(0, dot);
}

/**
 * Random bytes are drawn from Web Crypto (global in Node >= 20, Deno, Bun and browsers, which
 * keeps core free of `node:` imports) 4 KiB at a time: one `getRandomValues` call per token cost
 * more than the rest of an in-process acquire. Each byte is used once.
 */
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The alphabet's character codes, by 6-bit value. */
const CODES: readonly number[] = Array.from(ALPHABET, (char) => char.charCodeAt(0));
/**
 * One reusable array of character codes per output length (8 for an identity, 22 for a secret).
 * The string is made in one `String.fromCharCode` call: appending 22 one-character strings cost
 * a third more per token, and left a rope that every later comparison of the owner flattened.
 */
const codesByLength = new Map<number, number[]>();

function randomBase64Url(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE));
    poolOffset = 0;
  }
  const length = Math.ceil((bytes * 4) / 3);
  let codes = codesByLength.get(length);
  if (codes === undefined) {
    codes = Array.from({ length }, () => 0);
    codesByLength.set(length, codes);
  }
  let at = 0;
  // 6 bits per character from each byte's low bits would waste entropy; take 3 bytes → 4 chars.
  for (let i = 0; i < bytes; i += 3) {
    const a = pool[poolOffset + i] as number;
    // Past this token's last byte, pad with zeros: never read bytes another token will use.
    const b = i + 1 < bytes ? (pool[poolOffset + i + 1] as number) : 0;
    const c = i + 2 < bytes ? (pool[poolOffset + i + 2] as number) : 0;
    const n = (a << 16) | (b << 8) | c;
    codes[at++] = CODES[(n >> 18) & 63] as number;
    codes[at++] = CODES[(n >> 12) & 63] as number;
    if (i + 1 < bytes) codes[at++] = CODES[(n >> 6) & 63] as number;
    if (i + 2 < bytes) codes[at++] = CODES[n & 63] as number;
  }
  const out = String.fromCharCode.apply(null, codes);
  // Zero the used bytes (and the codes made of them) so a later memory disclosure cannot recover
  // issued secrets from the pool.
  pool.fill(0, poolOffset, poolOffset + bytes);
  codes.fill(0);
  poolOffset += bytes;
  return out;
}
