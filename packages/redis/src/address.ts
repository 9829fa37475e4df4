import { maskSecrets } from '@lock/core';
import type { RedisBackendOptions } from './options.js';

/**
 * Where a backend's Redis is, for messages: `host:port` (or a list for a Cluster), never a
 * password. Taken from the URL or options the backend was given; a client you pass in is
 * described by its own options when it has them.
 */
export function addressOf(options: RedisBackendOptions): string {
  if (options.url !== undefined) return hostPortOf(options.url);
  const socket = options.clientOptions?.socket as { host?: string; port?: number } | undefined;
  if (socket?.host !== undefined || socket?.port !== undefined) {
    return `${socket?.host ?? 'localhost'}:${socket?.port ?? 6379}`;
  }
  if (options.clientOptions?.url !== undefined) return hostPortOf(options.clientOptions.url);
  const cluster =
    options.clusterOptions ?? (options.cluster as { options?: unknown } | undefined)?.options;
  const clusterNodes = (cluster as { rootNodes?: unknown } | undefined)?.rootNodes as
    | readonly { url?: string; socket?: { host?: string; port?: number } }[]
    | undefined;
  if (clusterNodes !== undefined && clusterNodes.length > 0) {
    return clusterNodes
      .map((node) =>
        node.url !== undefined
          ? hostPortOf(node.url)
          : `${node.socket?.host ?? 'localhost'}:${node.socket?.port ?? 6379}`,
      )
      .join(',');
  }
  const given = (
    options.client as
      | { options?: { url?: string; socket?: { host?: string; port?: number } } }
      | undefined
  )?.options;
  if (given?.url !== undefined) return hostPortOf(given.url);
  if (given?.socket?.host !== undefined) return `${given.socket.host}:${given.socket.port ?? 6379}`;
  return 'redis';
}

/** `host:port` of a `redis[s]://` URL, or the masked URL when it cannot be read. */
function hostPortOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`;
  } catch {
    return maskSecrets(url);
  }
}
