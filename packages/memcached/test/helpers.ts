import { createConnection } from 'node:net';
import { freePort } from '@lock/testkit';

/** A loopback port nothing listens on (a free port, not kept open). */
export function closedPort(): Promise<number> {
  return freePort();
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The server's own counters (`stats`), read on a connection of their own. */
export function serverStats(port: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1', () => socket.write('stats\r\n'));
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (!text.endsWith('END\r\n')) return;
      socket.end();
      const stats: Record<string, number> = {};
      for (const line of text.split('\r\n')) {
        const [tag, name, value] = line.split(' ');
        if (tag === 'STAT' && name !== undefined) stats[name] = Number(value);
      }
      resolve(stats);
    });
  });
}

const COUNTED = [
  'cmd_get',
  'cmd_set',
  'cmd_touch',
  'cas_hits',
  'cas_misses',
  'cas_badval',
  'incr_hits',
  'incr_misses',
  'delete_hits',
  'delete_misses',
] as const;

/** How many of each server command `work` cost (the counters that moved). */
export async function commandsOf(port: number, work: () => Promise<unknown>) {
  const before = await serverStats(port);
  await work();
  const after = await serverStats(port);
  const moved: Record<string, number> = {};
  for (const name of COUNTED) {
    const delta = (after[name] ?? 0) - (before[name] ?? 0);
    if (delta !== 0) moved[name] = delta;
  }
  return moved;
}

/**
 * The remaining TTL of `key` in seconds as the server reports it (meta get `t` flag, on a text
 * connection of its own): -1 for an item that never expires, `undefined` when there is none.
 */
export function itemTtlSeconds(port: number, key: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1', () => socket.write(`mg ${key} t\r\n`));
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (!text.endsWith('\r\n')) return;
      socket.end();
      const ttl = /^HD .*\bt(-?\d+)/.exec(text);
      resolve(ttl === null ? undefined : Number(ttl[1]));
    });
  });
}
