import { Socket } from 'node:net';

/** Sends one RESP command; resolves with the first reply line, or 'no reply' after `ms`. */
export function redis(port: number, command: string, ms = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (line: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => done('no reply'), ms);
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.split('\r\n')[0] as string);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
  });
}
