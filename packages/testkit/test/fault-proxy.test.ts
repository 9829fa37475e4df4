import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FaultProxy } from '../src/fault-proxy.js';

/** An echo server that counts the bytes it received, so "the request landed" can be checked. */
let echo: Server;
let received = 0;
let echoPort = 0;
const echoSockets = new Set<Socket>();

beforeAll(async () => {
  echo = createServer((socket) => {
    echoSockets.add(socket);
    socket.on('close', () => echoSockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of echoSockets) socket.destroy();
  await new Promise((resolve) => echo.close(resolve));
});

async function connectTo(port: number): Promise<Socket> {
  const socket = new Socket();
  socket.on('error', () => {});
  socket.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves with what the socket receives within `ms`. */
function collect(socket: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
    };
    socket.on('data', onData);
    setTimeout(() => {
      socket.off('data', onData);
      resolve(text);
    }, ms);
  });
}

describe('FaultProxy', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await FaultProxy.start(echoPort);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('passes traffic both ways', async () => {
    await proxy.set({ kind: 'pass' });
    const socket = await connectTo(proxy.port);
    const reply = collect(socket, 100);
    socket.write('hello');
    expect(await reply).toBe('hello');
    socket.destroy();
  });

  it('drop-replies: the request lands, the reply never comes back', async () => {
    await proxy.set({ kind: 'pass' });
    const socket = await connectTo(proxy.port);
    await proxy.set({ kind: 'drop-replies' });
    const before = received;
    const reply = collect(socket, 150);
    socket.write('landed');
    expect(await reply).toBe('');
    expect(received - before).toBe('landed'.length);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });

  it('blackhole: nothing gets through either way, and the socket stays open', async () => {
    const socket = await connectTo(proxy.port);
    await proxy.set({ kind: 'blackhole' });
    const before = received;
    const reply = collect(socket, 150);
    socket.write('lost');
    expect(await reply).toBe('');
    expect(received).toBe(before);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });

  it('delay: holds each direction by its own delay and keeps order when the delay shrinks', async () => {
    await proxy.set({ kind: 'delay', upMs: 0, downMs: 200 });
    const socket = await connectTo(proxy.port);
    const started = performance.now();
    const reply = collect(socket, 500);
    socket.write('a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await proxy.set({ kind: 'pass' });
    socket.write('b');
    const text = await reply;
    expect(text).toBe('ab');
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    socket.destroy();
  });

  it('delay: keeps the order of a stream while the delay changes every millisecond', async () => {
    await proxy.set({ kind: 'pass' });
    const socket = await connectTo(proxy.port);
    socket.setNoDelay(true);
    let echoed = '';
    socket.on('data', (chunk: Buffer) => {
      echoed += chunk.toString();
    });
    // Each write gets a delay of its own, often shorter than the one before it; timers that
    // fire by their own clock let a later chunk overtake an earlier one.
    const jitter = setInterval(() => {
      void proxy.set({
        kind: 'delay',
        upMs: Math.random() < 0.8 ? Math.random() * 5 : 20 + Math.random() * 60,
      });
    }, 1);
    const sent: string[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        sent.push(`${i};`);
        socket.write(`${i};`);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
      }
    } finally {
      clearInterval(jitter);
    }
    await proxy.set({ kind: 'pass' });
    const deadline = performance.now() + 2_000;
    while (echoed.length < sent.join('').length && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(echoed).toBe(sent.join(''));
    socket.destroy();
  });

  it('reset drops open connections; refuse refuses new ones until pass again', async () => {
    await proxy.set({ kind: 'pass' });
    const socket = await connectTo(proxy.port);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await proxy.set({ kind: 'reset' });
    await closed;
    await proxy.set({ kind: 'refuse' });
    await expect(connectTo(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.set({ kind: 'pass' });
    const again = await connectTo(proxy.port);
    const reply = collect(again, 100);
    again.write('back');
    expect(await reply).toBe('back');
    again.destroy();
  });
});
