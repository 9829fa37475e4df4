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

function randomBase64Url(bytes: number): string {
  // Web Crypto is global in every runtime we support (Node >= 20, Deno, Bun, browsers),
  // which keeps core free of `node:` imports.
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  let binary = '';
  for (const byte of buffer) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
