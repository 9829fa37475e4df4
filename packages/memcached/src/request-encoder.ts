/**
 * Encodes one memcached binary-protocol request.
 *
 * Written here rather than taken from memjs's `Utils.makeRequestBuffer`: that builder converts
 * each part to a buffer, zero-fills the request, builds the 24-byte header in a second buffer and
 * copies everything over, which was about a sixth of the client's CPU with 50 locks in flight.
 * This one writes the parts straight into one uninitialised buffer, every byte of which it sets.
 * Layout: the binary protocol's request header (magic 0x80, opcode, key length, extras length,
 * data type, vbucket, total body length, opaque, CAS), then extras, key and value.
 * @module
 */

/** A request for `opcode` on `key`, with `opaque` echoed in the reply and an optional 8-byte CAS. */
export function encodeRequest(
  opcode: number,
  key: string,
  extras: Buffer,
  value: string | Buffer,
  opaque: number,
  cas?: Buffer,
): Buffer {
  const keyLength = Buffer.byteLength(key, 'utf8');
  const valueLength = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  const bodyLength = extras.length + keyLength + valueLength;
  const request = Buffer.allocUnsafe(24 + bodyLength);
  request[0] = 0x80;
  request[1] = opcode;
  request.writeUInt16BE(keyLength, 2);
  request[4] = extras.length;
  request[5] = 0; // data type: raw bytes
  request.writeUInt16BE(0, 6); // vbucket
  request.writeUInt32BE(bodyLength, 8);
  request.writeUInt32BE(opaque >>> 0, 12);
  request.fill(0, 16, 24);
  cas?.copy(request, 16, 0, 8);
  extras.copy(request, 24);
  request.write(key, 24 + extras.length, keyLength, 'utf8');
  const valueAt = 24 + extras.length + keyLength;
  if (typeof value === 'string') request.write(value, valueAt, valueLength, 'utf8');
  else value.copy(request, valueAt);
  return request;
}
