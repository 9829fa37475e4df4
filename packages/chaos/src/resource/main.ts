/**
 * The fenced resource, as its own process (so it runs beside the workers, in their network
 * namespace when they have one, and keeps its own log). Listens on a free loopback port, tells
 * the orchestrator the port over IPC, logs every write attempt, and stops when told or when the
 * orchestrator goes away.
 */
import { createServer, type Socket } from 'node:net';
import { JsonlLog } from '../history/jsonl-log.js';
import { FencedStore } from './fenced-store.js';

const logPath = process.argv[2];
if (logPath === undefined) throw new Error('usage: resource <log path>');
const log = new JsonlLog(logPath, 'resource');
const store = new FencedStore();
const sockets = new Set<Socket>();

const server = createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
  let buffer = '';
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const request = JSON.parse(buffer.slice(0, newline)) as {
        id: number;
        key: string;
        fence: number;
        hold: string;
      };
      buffer = buffer.slice(newline + 1);
      const accepted = store.write(request.key, request.fence);
      log.write({
        type: 'attempt',
        key: request.key,
        fence: request.fence,
        hold: request.hold,
        accepted,
      });
      socket.write(`${JSON.stringify({ id: request.id, accepted })}\n`);
      newline = buffer.indexOf('\n');
    }
  });
});

function stop(): void {
  server.close();
  for (const socket of sockets) socket.destroy();
  log.close();
  process.disconnect?.();
}

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({
    evt: 'listening',
    port: typeof address === 'object' && address ? address.port : 0,
  });
});
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'stop') stop();
});
process.on('disconnect', () => {
  server.close();
  for (const socket of sockets) socket.destroy();
});
