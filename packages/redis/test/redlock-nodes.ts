import { randomBytes } from 'node:crypto';
import { FaultProxy, type RunningServer, sleep } from '@lock/testkit';
import { createClient } from 'redis';
import { RedlockBackend, type RedlockOptions } from '../src/index.js';
import { startOwnRedis } from './redis-server.js';

/** A raw node-redis client straight to a server (no proxy), for setting up and looking. */
export type RawClient = ReturnType<typeof rawClient>;

function rawClient(url: string) {
  return createClient({ url });
}

/** N independent redis-servers and a raw client to each. */
export interface RedlockNodes {
  readonly servers: readonly RunningServer[];
  readonly raws: readonly RawClient[];
  stop(): Promise<void>;
}

/** Starts `count` redis-servers (always local processes) with a raw client to each. */
export async function startRedlockNodes(count: number): Promise<RedlockNodes> {
  const servers = await Promise.all(Array.from({ length: count }, () => startOwnRedis()));
  const raws = servers.map((server) => rawClient(server.url));
  await Promise.all(raws.map((raw) => raw.connect()));
  return {
    servers,
    raws,
    stop: async () => {
      await Promise.all(raws.map((raw) => raw.close().catch(() => {})));
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

/** A Redlock client whose traffic to each node goes through its own fault proxy. */
export interface ProxiedRedlock {
  readonly backend: RedlockBackend;
  /** One proxy per node, in node order. */
  readonly proxies: readonly FaultProxy[];
  close(): Promise<void>;
}

/**
 * A {@link RedlockBackend} over `nodes`, each reached through a fresh {@link FaultProxy}, so a
 * test can delay, drop or cut one client's traffic to one node. Connected, and warmed up (its
 * scripts loaded on every node, the eviction check done) before it is returned, so no
 * first-use traffic mixes with what a test does to it.
 */
export async function proxiedRedlock(
  nodes: RedlockNodes,
  options: Omit<RedlockOptions, 'nodes'> & { readonly prefix: string },
): Promise<ProxiedRedlock> {
  const proxies = await Promise.all(
    nodes.servers.map((server) => FaultProxy.start(server.ports[0] as number)),
  );
  const backend = new RedlockBackend({
    ...options,
    nodes: proxies.map((proxy) => `redis://127.0.0.1:${proxy.port}`),
  });
  await backend.connect();
  const warmUp = { key: `warm-up-${randomBytes(4).toString('hex')}`, owner: ownerToken('warm') };
  // A few tries: on a loaded machine a short commandTimeout can miss the first script loads.
  for (let attempt = 1; ; attempt++) {
    const granted = await backend.acquire({ ...warmUp, ttlMs: 5_000 }).catch((error: unknown) => {
      if (attempt === 5) throw error;
      return undefined;
    });
    if (granted?.acquired) break;
    if (attempt === 5) throw new Error('warm-up acquire was refused');
    await sleep(100);
  }
  await backend.release(warmUp);
  await sleep(50); // the eviction-policy check runs in the background after the first connect
  return {
    backend,
    proxies,
    close: async () => {
      await backend.close();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    },
  };
}

/** An owner token in core's shape, `"<identity>.<secret>"`. */
export function ownerToken(identity: string): string {
  return `${identity}.${randomBytes(16).toString('hex')}`;
}

/** Resolves once `condition` holds, polling every few milliseconds; throws after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A fault armed on a proxy, that can be called off. */
export interface ArmedFault {
  /** Settles once the fault has happened (or was called off). */
  readonly done: Promise<void>;
  /** Calls the fault off if it has not happened yet, and passes traffic. */
  cancel(): Promise<void>;
}

/**
 * Blackholes `proxy` as soon as the next reply has gone through it: the request sent after that
 * reply is lost (it never reaches the server, and its reply never comes). Checks on every turn
 * of the event loop, so the switch happens before the client has even read the reply.
 *
 * Traffic passes again as soon as the client has given up the connection that lost the request
 * (or opened another one): a TCP stream never loses a request and then carries the next one,
 * and passing on the same connection would hand the client the next request's reply as the
 * lost one's.
 */
export function loseTheRequestAfterNextReply(proxy: FaultProxy): ArmedFault {
  const repliesBefore = proxy.stats.bytesDown;
  const droppedBefore = proxy.stats.bytesDropped;
  let cancelled = false;
  const done = new Promise<void>((resolve) => {
    const pass = () => void proxy.set({ kind: 'pass' }).then(resolve);
    const watchReplies = () => {
      if (cancelled) pass();
      else if (proxy.stats.bytesDown === repliesBefore) setImmediate(watchReplies);
      else void proxy.set({ kind: 'blackhole' }).then(watchDrops);
    };
    const watchDrops = () => {
      if (cancelled) void cutAndPass(proxy).then(resolve);
      else if (proxy.stats.bytesDropped === droppedBefore) setImmediate(watchDrops);
      else watchConnections(proxy.openConnections, proxy.stats.connections);
    };
    const watchConnections = (open: number, accepted: number) => {
      if (cancelled) void cutAndPass(proxy).then(resolve);
      else if (proxy.openConnections < open || proxy.stats.connections > accepted) pass();
      else setImmediate(() => watchConnections(open, accepted));
    };
    watchReplies();
  });
  return {
    done,
    cancel: () => {
      cancelled = true;
      return done;
    },
  };
}

/**
 * Resets every connection through `proxy`, then passes traffic: how a test ends a fault that
 * dropped bytes, so that no connection which lost some of its stream carries on.
 */
export async function cutAndPass(proxy: FaultProxy): Promise<void> {
  await proxy.set({ kind: 'blackhole' });
  proxy.resetAll();
  await proxy.set({ kind: 'pass' });
}
