/**
 * Readiness checks that speak each server's own protocol over a socket: they need no client
 * binary (`redis-cli`) on the machine, and they are not fooled by a port that accepts
 * connections before the server listens (Docker's port publishing does).
 * @module
 */
import { Socket } from 'node:net';

/**
 * Sends `request` to 127.0.0.1:`port` and resolves true once the reply's first bytes satisfy
 * `answered`; false on error, close or `timeoutMs`.
 */
function replies(
  port: number,
  request: Buffer,
  answered: (reply: Buffer) => boolean | undefined,
  timeoutMs = 1_000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = Buffer.alloc(0);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      const verdict = answered(reply);
      if (verdict !== undefined) done(verdict);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(request));
  });
}

/** True once Redis answers `PING` (`+PONG`, or `-NOAUTH` from a server with a password). */
export function redisAnswers(port: number): Promise<boolean> {
  return replies(port, Buffer.from('PING\r\n'), (reply) => {
    const line = reply.toString('latin1');
    if (!line.includes('\r\n')) return undefined;
    return line.startsWith('+PONG') || line.startsWith('-NOAUTH');
  });
}

/**
 * True once memcached answers a binary-protocol `VERSION` (any response header, so a server
 * that requires SASL counts too: its refusal is an answer).
 */
export function memcachedAnswers(port: number): Promise<boolean> {
  const header = Buffer.alloc(24);
  header[0] = 0x80; // request magic
  header[1] = 0x0b; // VERSION
  return replies(port, header, (reply) => (reply.length < 24 ? undefined : reply[0] === 0x81));
}
