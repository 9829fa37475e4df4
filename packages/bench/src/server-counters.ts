import memjs from 'memjs';
import { createClient } from 'redis';

/** Commands a server has processed so far, read from the server itself. */
export interface ServerCounter {
  /** What is counted, for the report. */
  readonly what: string;
  read(): Promise<number>;
  close(): Promise<void>;
}

/** Server kinds whose own statistics the bench reads. */
export type ServerKind = 'redis' | 'memcached' | 'etcd';

/** A counter for the server at `url`, of `kind`. */
export async function serverCounter(kind: ServerKind, url: string): Promise<ServerCounter> {
  if (kind === 'redis') return redisCommands(url);
  if (kind === 'memcached') return memcachedCommands(url);
  return etcdMessages(url);
}

/**
 * Redis `INFO commandstats`: every command the server ran, those a script runs inside it
 * included (EVALSHA running GET and DEL counts 3), less the INFO calls that read it and the CONFIG GETs redis-benchmark starts with.
 */
async function redisCommands(url: string): Promise<ServerCounter> {
  const client = createClient({ url });
  await client.connect();
  return {
    what: 'Redis commands (INFO commandstats, script-internal commands included)',
    read: async () => sumRedisCommandstats(await client.info('commandstats')),
    close: async () => void (await client.quit().catch(() => {})),
  };
}

/** Total `calls=` over an `INFO commandstats` reply, less `info` itself. */
export function sumRedisCommandstats(info: string): number {
  let total = 0;
  for (const [, name = '', calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    if (name !== 'info' && !name.startsWith('config')) total += Number(calls);
  return total;
}

/** memcached `stats`: gets, sets (add and cas included), touches, deletes, incr and decr. */
async function memcachedCommands(url: string): Promise<ServerCounter> {
  const client = memjs.Client.create(url.replace('memcached://', ''));
  const fields = ['cmd_get', 'cmd_set', 'cmd_touch', 'delete_hits', 'delete_misses'];
  const prefixes = ['incr_', 'decr_'];
  return {
    what: 'memcached operations (stats: get, set/add/cas, touch, delete, incr, decr)',
    read: () =>
      new Promise<number>((resolve, reject) => {
        client.stats((error, _server, values) => {
          if (error || !values) return reject(error ?? new Error('memcached stats: no reply'));
          let total = 0;
          for (const [name, value] of Object.entries(values))
            if (fields.includes(name) || prefixes.some((p) => name.startsWith(p)))
              total += Number(value);
          resolve(total);
        });
      }),
    close: async () => client.quit(),
  };
}

/** etcd's `grpc_server_msg_received_total` over every method, keepalive stream messages included. */
async function etcdMessages(url: string): Promise<ServerCounter> {
  const endpoint = url.replace('etcd://', 'http://');
  return {
    what: 'etcd gRPC messages received (grpc_server_msg_received_total)',
    read: async () => {
      const metrics = await (await fetch(`${endpoint}/metrics`)).text();
      let total = 0;
      for (const [, value] of metrics.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm))
        total += Number(value);
      return total;
    },
    close: async () => {},
  };
}
